/**
 * Loads ml2sc.yaml: read → parse (yaml) → validate and fill defaults (ajv, every problem at once) →
 * resolve paths → check the files it names exist. Every failure is one ConfigError whose `line()` names
 * all the problems, joined with "; ".
 */
import { readFile, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { LineCounter, isMap, isScalar, isSeq, parseDocument, visit, type Document } from 'yaml'
import { ConfigError } from '../errors/base.ts'
import { fileInTheWay } from '../files/fileInTheWay.ts'
import { checkFiles, resolveConfig } from './resolveConfig.ts'
import type { Config } from './types.ts'
import { PRIVATE_KEY_MESSAGE, validateConfig, type Problem } from './validateConfig.ts'

export const DEFAULT_CONFIG_NAME = 'ml2sc.yaml'
/** Model files, given where a config goes (`ml2sc run model.onnx`). */
const MODEL_FILE = /\.(onnx|pt|pth|safetensors|pkl|bin|ckpt)$/i

export type LoadOverrides = {
  /** `--out`: output folder, relative to the current directory. */
  output?: string
  /**
   * The data files (data.test, data.reference) may be missing: they are dropped from the config then
   * (`verify`: a third party may hold only the model file and the config).
   */
  dataOptional?: boolean
  /** The command writes nothing to the output folder (`inspect`): a file standing there is not a problem. */
  outputUnused?: boolean
}

/** Reads, validates and resolves a config file. A folder means `<folder>/ml2sc.yaml`. */
export async function loadConfig(file: string, overrides: LoadOverrides = {}): Promise<Config> {
  let absolute = resolve(file)
  const info = await stat(absolute).catch(() => undefined)
  if (info?.isDirectory()) absolute = join(absolute, DEFAULT_CONFIG_NAME)
  // Errors name the file as the user wrote it.
  const where = absolute === resolve(file) ? file : absolute
  if (MODEL_FILE.test(absolute))
    throw new ConfigError('this is a model file, not a config', {
      where,
      hint: `scaffold a config from it with \`ml2sc init ${file}\`, then \`ml2sc run ml2sc.yaml\``,
    })
  let text: string
  try {
    text = await readFile(absolute, 'utf8')
  } catch (cause) {
    const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT'
    throw new ConfigError(missing ? 'config file not found' : 'cannot read the config file', {
      where,
      hint: missing ? 'create one with `ml2sc init`' : undefined,
      cause,
    })
  }

  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true, keepSourceTokens: true })
  keepAddressesText(doc)
  if (doc.errors.length > 0) {
    const first = doc.errors[0].linePos?.[0]
    const messages = doc.errors.map((e) => e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, ''))
    const positions = doc.errors.map((e) => (e.linePos ? `line ${e.linePos[0].line}:${e.linePos[0].col}` : ''))
    throw new ConfigError(
      `YAML syntax error: ${messages.map((m, i) => (i === 0 ? m : `${m} (${positions[i]})`)).join('; ')}`,
      {
        where: first ? `${where}:${first.line}:${first.col}` : where,
        hint: 'indent nested keys with spaces and write lists as `[a, b]` or `- a` lines',
        details: doc.errors.map((e) => e.message).join('\n'),
      },
    )
  }

  const data = doc.toJS({ maxAliasCount: 100 }) as unknown
  const problems = validateConfig(data)
  if (problems.length > 0) throw problemsError(where, problems, doc, lineCounter)

  const config = resolveConfig({ file: absolute, doc: data, output: overrides.output })
  let missing = checkFiles(config)
  if (overrides.dataOptional && missing.some((p) => p.segments[0] === 'data')) {
    for (const p of missing) if (p.segments[0] === 'data') Object.assign(config.data, { [p.segments[1]!]: p.segments[1] === 'test' ? '' : undefined })
    missing = missing.filter((p) => p.segments[0] !== 'data')
  }
  if (missing.length > 0)
    throw problemsError(where, missing, doc, lineCounter, `paths are relative to the config file (${config.dir})`)
  // a file where the output folder goes: said now, before any work (mkdir would fail later with EEXIST)
  const blocker = overrides.outputUnused ? undefined : fileInTheWay(config.output)
  if (blocker)
    throw new ConfigError(`the output folder ${config.output} cannot be made: ${blocker} is a file, not a folder`, {
      where: overrides.output !== undefined ? '--out' : `${where} (output)`,
      hint: 'choose another folder with --out DIR (or `output:` in the config), or move the file away',
    })
  return config
}

/** One ConfigError for a list of problems: all of them in the short message, with YAML lines in details. */
function problemsError(
  where: string,
  problems: Problem[],
  doc: Document,
  lineCounter: LineCounter,
  hint?: string,
): ConfigError {
  const text = (p: Problem) => (p.path ? `${p.path}: ${p.message}` : p.message)
  const shortMessage =
    problems.length === 1 ? text(problems[0]) : `${problems.length} problems: ${problems.map(text).join('; ')}`
  const details = problems
    .map((p) => {
      const line = lineOf(doc, lineCounter, p.segments)
      return line ? `line ${line}: ${text(p)}` : text(p)
    })
    .join('\n')
  const privateKey = problems.some((p) => p.message === PRIVATE_KEY_MESSAGE)
  return new ConfigError(shortMessage, {
    where,
    details,
    hint:
      hint ??
      (privateKey
        ? 'delete the key from the file and `export ML2SC_PRIVATE_KEY=0x…`'
        : 'every key is described in README.md ("Config reference"); `ml2sc schema` prints the JSON Schema'),
  })
}

/** 1-based line of the YAML node at `segments` (for a key: the key itself), or of its nearest ancestor. */
function lineOf(doc: Document, lineCounter: LineCounter, segments: (string | number)[]): number | undefined {
  let node: unknown = doc.contents
  let offset: number | undefined = (node as { range?: number[] } | null)?.range?.[0]
  for (const segment of segments) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === segment)
      if (!pair) break
      offset = (pair.key as { range?: number[] } | null)?.range?.[0] ?? offset
      node = pair.value
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment]
      offset = (node as { range?: number[] } | null)?.range?.[0] ?? offset
    } else break
  }
  return offset === undefined ? undefined : lineCounter.linePos(offset).line
}

/**
 * YAML reads an unquoted `0x…` as a hexadecimal integer: an address (`chain.owner: 0x7099…79C8`) would
 * become 6.4e47 and lose its checksum. A scalar written as 40 hex digits after 0x stays the text it was.
 */
function keepAddressesText(doc: Document): void {
  visit(doc, {
    Scalar(_key, node) {
      const source = (node as { srcToken?: { source?: string } }).srcToken?.source
      if (typeof node.value === 'number' && source && /^0x[0-9a-fA-F]{40}$/.test(source)) node.value = source
    },
  })
}
