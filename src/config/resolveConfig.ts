/**
 * Turns a validated, default-filled config document into the resolved `Config`: absolute paths (relative
 * ones are taken from the config file's folder), the file's path and folder, and its hashes (configHash.ts).
 */
import { statSync } from 'node:fs'
import { homedir } from 'node:os'
import { isAbsolute, resolve } from 'node:path'
import { configHashes } from './configHash.ts'
import type { Config } from './types.ts'
import { schemaAt } from './schema.ts'
import type { Problem } from './validateConfig.ts'

/** The document as the schema guarantees it after validation with defaults filled in. */
type Validated = Omit<Config, 'file' | 'dir' | 'hash' | 'evaluationHash' | 'data'> & { data?: Omit<Config['data'], 'label'> & { label: string | string[] } }

export type ResolveInput = {
  /** Absolute path of the config file. */
  file: string
  /** The validated document. */
  doc: unknown
  /** `--out`, relative to the current directory. */
  output?: string
}

/** `~/x` → home folder; relative → from `base`; absolute stays. */
export function resolvePath(base: string, p: string): string {
  if (p === '~' || p.startsWith('~/')) return resolve(homedir(), p.slice(2))
  return isAbsolute(p) ? p : resolve(base, p)
}

export function resolveConfig({ file, doc, output }: ResolveInput): Config {
  const v = doc as Validated
  const dir = resolve(file, '..')
  const at = (p: string) => resolvePath(dir, p)
  const model: Config['model'] = { ...v.model, path: at(v.model.path) }
  if (v.model.source !== undefined) model.source = at(v.model.source)
  // Without a `data` section (a config used only for `compile` or `predict --input`), `data.test` is ''
  // and label/drop take the schema's defaults; commands that evaluate the test set must check it.
  const data: Config['data'] = v.data
    ? {
        ...v.data,
        // data.label as a list (a multi-output model): the first names the first output's column, as a string
        // does; the others are no features either
        ...labelsOf(v.data.label, v.data.drop),
        test: at(v.data.test),
        ...(v.data.reference !== undefined ? { reference: at(v.data.reference) } : {}),
        ...(v.data.calibration !== undefined ? { calibration: at(v.data.calibration) } : {}),
      }
    : {
        test: '',
        label: schemaAt(['data', 'label'])?.default as string,
        drop: [...(schemaAt(['data', 'drop'])?.default as string[])],
      }
  const config = {
    file,
    dir,
    model,
    data,
    weights: v.weights,
    precision: v.precision,
    batch: v.batch,
    chain: v.chain,
    output: output !== undefined ? resolve(process.cwd(), output) : at(v.output),
  }
  return { ...config, ...configHashes(config) }
}

/** Problems with the files a resolved config names: each must exist and be a file. */
export function checkFiles(config: Config): Problem[] {
  const problems: Problem[] = []
  const files: [string[], string | undefined][] = [
    [['model', 'path'], config.model.path],
    [['model', 'source'], config.model.source],
    [['data', 'test'], config.data.test || undefined],
    [['data', 'reference'], config.data.reference],
    [['data', 'calibration'], config.data.calibration],
  ]
  for (const [segments, p] of files) {
    if (p === undefined) continue
    const stat = statSync(p, { throwIfNoEntry: false })
    const message = !stat ? `${p} does not exist` : stat.isDirectory() ? `${p} is a folder, not a file` : undefined
    if (message) problems.push({ path: segments.join('.'), segments, message })
  }
  return problems
}

/** `data.label` as a string, or a list (one column per output of a multi-output model: `labels`, the others dropped from the features). */
function labelsOf(label: string | string[], drop: string[]): Pick<Config['data'], 'label' | 'labels' | 'drop'> {
  if (!Array.isArray(label)) return { label, drop }
  return { label: label[0]!, labels: label, drop: [...drop, ...label.slice(1).filter((l) => !drop.includes(l))] }
}
