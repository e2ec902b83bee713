import { existsSync, statSync } from 'node:fs'
import path from 'node:path'
import { parse } from 'yaml'
import { DEFAULT_CONFIG_NAME } from '../config/loadConfig.ts'
import { validateConfig } from '../config/validateConfig.ts'
import { ConfigError, DataError, Ml2scError } from '../errors/base.ts'
import { parameterCount, shapeOf } from '../ir/taskOf.ts'
import { fileInTheWay } from '../files/fileInTheWay.ts'
import { writeAtomic } from '../files/writeAtomic.ts'
import { ML2SC_VERSION } from '../version.ts'
import { guessArchitecture, type ArchitectureGuess } from './guessArchitecture.ts'
import { guessData, type DataGuess } from './guessData.ts'
import { findReference } from './findReference.ts'
import { findLabelColumn, labelMismatch, textClasses } from './matchLabel.ts'
import { headLabels, type HeadLabels } from './headLabels.ts'

export type InitOptions = {
  /** The model file. */
  model: string
  /** The test CSV; default: `test.csv` beside the model, when there is one. */
  data?: string
  /** The config to write (a folder means `<folder>/ml2sc.yaml`); default `ml2sc.yaml` here. */
  config?: string
  /** The output folder to put in the config (relative to the current folder, like `--out`). */
  out?: string
  /** Overwrite an existing config. */
  force?: boolean
}

export type InitResult = { file: string; text: string; architecture: ArchitectureGuess; data?: DataGuess & { file: string; labels?: string[]; labelsHow?: HeadLabels['how'] }; reference?: string; warnings: string[] }

/**
 * `ml2sc init`: scaffold a config from a model file (and a CSV), guessing what a config needs: the
 * architecture of a weights-only file and the label column. The file is validated before it is written,
 * and an existing config is never overwritten without `force`.
 */
export async function initConfig(opts: InitOptions, cwd = process.cwd()): Promise<InitResult> {
  let target = path.resolve(cwd, opts.config ?? DEFAULT_CONFIG_NAME)
  if (existsSync(target) && statSync(target).isDirectory()) target = path.join(target, DEFAULT_CONFIG_NAME)
  const shown = path.relative(cwd, target) || target
  const model = path.resolve(cwd, opts.model)
  // the model first: a wrong model path is the problem to report, even beside an existing config
  if (!existsSync(model)) throw new ConfigError(`model file not found: ${opts.model}`, { hint: 'give the path of a .onnx, .pt/.pth, .safetensors or .json model' })
  if (existsSync(target) && !opts.force)
    throw new ConfigError(`${shown} already exists`, { hint: 'pass --force to overwrite it, or --config to write another file' })
  const dir = path.dirname(target)
  // a file where a folder must be (the config's folder, or --out): one line now, before reading the model
  for (const [what, folder] of [['the config file\'s folder', dir], ['the output folder (--out)', opts.out === undefined ? undefined : path.resolve(cwd, opts.out)]] as const) {
    const blocker = folder === undefined ? undefined : fileInTheWay(folder)
    if (blocker) throw new ConfigError(`${what} ${folder} cannot be made: ${blocker} is a file, not a folder`, { hint: what.startsWith('the output') ? 'choose another folder with --out DIR, or move the file away' : 'choose another path with --config, or move the file away' })
  }

  let dataFile: string | undefined
  if (opts.data) {
    dataFile = path.resolve(cwd, opts.data)
    if (!existsSync(dataFile)) throw new DataError(`test CSV not found: ${opts.data}`, { hint: 'give the test set with --data test.csv' })
  } else {
    const beside = path.join(path.dirname(model), 'test.csv')
    if (existsSync(beside)) dataFile = beside
  }
  let data: (DataGuess & { file: string; labels?: string[]; labelsHow?: HeadLabels['how'] }) | undefined = dataFile ? { ...(await guessData(dataFile)), file: dataFile } : undefined
  const binary = data?.task === undefined ? undefined : data.task === 'binary'
  let arch = await guessArchitecture(model, { binary, features: data?.features, labelsPerHead: true })
  const outputs = arch.ir.layers[arch.ir.layers.length - 1]!.weight.length
  // the label may sit anywhere: once the model is known, the column whose values are its classes
  const labelAt = data && findLabelColumn(data, arch.ir.inputSize, outputs)
  if (data && labelAt) {
    data = { ...(await guessData(data.file, { label: labelAt })), file: data.file }
    if (arch.how === 'layers' && (data.task === 'binary') !== binary) arch = await guessArchitecture(model, { binary: data.task === 'binary', features: data.features, labelsPerHead: true })
  }

  // a multi-output model: a label column per head (headLabels), the first the label
  const found = data && arch.ir.heads ? headLabels(data, arch.ir.heads) : undefined
  if (data && found) {
    const { labels, how } = found
    data = { ...data, label: labels[0]!, ...(how === 'names' ? { labelHow: 'name' as const } : {}), ...(how === 'rest-named' ? {} : { task: undefined }), labels, labelsHow: how, features: data.features - labels.filter((c) => c !== data!.label).length }
  }
  const warnings: string[] = []
  if (data && data.features !== arch.ir.inputSize)
    warnings.push(
      `${path.basename(data.file)} has ${data.features} feature columns after the label '${data.label}'${data.drop.length ? ` and ${data.drop.join(', ')}` : ''}, but the model takes ${arch.ir.inputSize} inputs: fix data.label / data.drop`,
    )
  // (a multi-output model's label columns are checked head by head when it runs: pipeline/checkHeadLabels.ts)
  const mismatch = data && !data.labels && labelMismatch(data, outputs)
  if (mismatch) warnings.push(`${mismatch}: check data.label`)
  const classes = data && textClasses(data, outputs)
  if (classes)
    warnings.push(`label '${data!.label}' holds text: data.classes ${list(classes)} is sorted, a guess of the order of the model's outputs (marked CHECK in the config)`)
  const ref = data ? await findReference(model, outputs, data.file) : { file: undefined, skipped: [] }
  for (const why of ref.skipped) warnings.push(`not used as data.reference: ${why}`)
  if (arch.how === 'layers')
    warnings.push(
      `${path.basename(model)} holds ${arch.format === 'whole-model-pt' ? "the module tree but not forward()" : 'weights only (its activations are not in the file)'} and no nn.Module source lies beside it: model.layers ${list(arch.layers!)} is GUESSED from the tensor shapes (model.guessed: true; the reports say GUESSED)` +
        (arch.assumed ? `, assuming ${arch.assumed}; if forward() reads h_n, both directions' final states or the whole sequence instead, put its model.py beside the model (or set model.source + model.class)` : '') +
        ': ' +
        (ref.file ? `data.reference (${path.basename(ref.file)}) will show a wrong guess as disagreement` : "check it against the model's code, or add PyTorch's outputs as data.reference to measure it"),
    )
  const text = render({ name: shown, dir, model, arch, data, classes, reference: ref.file, out: opts.out === undefined ? undefined : path.resolve(cwd, opts.out), warnings })

  const problems = validateConfig(parse(text))
  if (problems.length) throw new Ml2scError(`ml2sc init wrote an invalid config: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, { hint: 'this is a bug in ml2sc; please report it' })
  await writeAtomic(target, text)
  return { file: target, text, architecture: arch, data, reference: ref.file, warnings }
}

/** Relative to the config's folder, unless that climbs more than one level: then absolute. */
const rel = (dir: string, p: string) => {
  const r = path.relative(dir, p).split(path.sep).join('/') || '.'
  return r.startsWith('../../') ? p : r
}
/** A YAML scalar: plain when safe, else double-quoted (JSON strings are valid YAML). */
const q = (s: string) => (/^[A-Za-z0-9_./()-][A-Za-z0-9_./() -]*$/.test(s) && !/^(true|false|null|yes|no|on|off|~)$/i.test(s) && !/ $/.test(s) ? s : JSON.stringify(s))
const list = (xs: string[]) => `[${xs.map(q).join(', ')}]`
const pad = (s: string, n = 44) => (s.length >= n ? `${s}  ` : s.padEnd(n))

function render(a: { name: string; dir: string; model: string; arch: ArchitectureGuess; data?: DataGuess & { file: string; labels?: string[]; labelsHow?: HeadLabels['how'] }; classes?: string[]; reference?: string; out?: string; warnings: string[] }): string {
  const { arch, data } = a
  const shape = shapeOf(arch.ir).join(' → ')
  const lines = [
    `# ml2sc.yaml, scaffolded by \`ml2sc init\` (ml2sc ${ML2SC_VERSION}). Check the lines marked GUESSED and CHECK, then run:`,
    `#   ml2sc run ${a.name}`,
    '# Paths are relative to this file. Every key, its default and its meaning: README.md, "Config reference".',
    ...a.warnings.map((w) => `# WARNING: ${w}`),
    'model:',
    pad(`  path: ${q(rel(a.dir, a.model))}`) + `# ${arch.format}, ${shape}, ${parameterCount(arch.ir).toLocaleString('en-US')} parameters`,
  ]
  if (arch.how === 'source') {
    lines.push(pad(`  source: ${q(rel(a.dir, arch.source!))}`) + '# GUESSED: an nn.Module source beside the model that fits its tensors')
    lines.push(`  class: ${q(arch.class!)}`)
  } else if (arch.how === 'layers') {
    lines.push(pad(`  layers: ${list(arch.layers!)}`) + (arch.assumed ? `# GUESSED: ${arch.assumed}` : '# CHECK: activations not in the file (guessed from the tensor shapes)'))
    lines.push(pad('  guessed: true') + '# GUESSED: no nn.Module source beside the model; the reports say so until you delete this line')
  }
  if (arch.inputShape)
    lines.push(pad(`  inputShape: [${arch.inputShape.join(', ')}]`) + (arch.ir.recurrent ? "# GUESSED: the CSV's columns as T steps of the GRU/LSTM's F features: check it ([T, F])" : arch.ir.attention ? "# GUESSED: the CSV's columns as T tokens of the attention's E features: check it ([T, E])" : '# GUESSED from the layer sizes: check it ([C, H, W] or [C, L])'))
  if (data) {
    lines.push('data:', `  test: ${q(rel(a.dir, data.file))}`)
    if (data.labels) {
      const why = data.labelsHow === 'last' ? `the last ${data.labels.length} columns, in the outputs' order` : `'${data.label}' ${data.labelHow === 'name' ? 'by its name' : 'by its values'}, the others named as the outputs`
      lines.push(pad(`  label: ${list(data.labels)}`) + `# GUESSED: a column per output (${arch.ir.heads!.map((h) => h.name).join(', ')}): ${why}`)
    }
    else lines.push(pad(`  label: ${q(data.label)}`) + `# GUESSED: ${data.labelHow === 'name' ? 'a label-like column name' : data.labelHow === 'values' ? "its values are the model's classes" : 'the last column'}${data.task ? ` (values look ${data.task})` : ''}`)
    if (data.drop.length) lines.push(pad(`  drop: ${list(data.drop)}`) + '# GUESSED: id-like or non-numeric columns')
    if (a.classes) lines.push(pad(`  classes: ${list(a.classes)}`) + "# CHECK: class names in the order of the model's outputs (guessed: sorted)")
    if (a.reference) lines.push(pad(`  reference: ${q(rel(a.dir, a.reference))}`) + "# PyTorch's outputs for the test rows: agreement is measured against them")
  } else {
    lines.push('# data:', '#   test: test.csv                           # the test set evaluated on chain (needed by run / evaluate)', '#   label: label')
  }
  if (a.out !== undefined) lines.push(`output: ${q(rel(a.dir, a.out))}`)
  return lines.join('\n') + '\n'
}
