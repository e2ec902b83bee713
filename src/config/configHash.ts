import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import type { Config } from './types.ts'

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex')
const fileHash = (file: string | undefined) => {
  if (!file) return null
  try {
    return sha256(readFileSync(file))
  } catch {
    return null // a missing file is reported by checkFiles
  }
}

/** JSON with sorted keys and no undefined values: the same meaning gives the same text. */
function canonical(value: unknown): string {
  if (value === undefined) return 'null'
  if (value === null || typeof value !== 'object') return JSON.stringify(value)
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`
}

export type ConfigHashes = { hash: string; evaluationHash: string }

/**
 * What the stage artifacts are stamped with, from the resolved config (not the file's text: a comment, a
 * reordered key or a default written out changes nothing):
 * - `hash`: what determines the contract and its weights: the model file's content (and `model.source`'s),
 *   its name (the contract's), every other `model` key, `weights`, `precision`, `batch.upload` (the chunk
 *   size is compiled in), `chain.hardfork` (solc's EVM) and `chain.owner` (in the creation code). plan.json,
 *   the compiled artifact and deployment.json carry it: changing anything else never forces a redeploy.
 * - `evaluationHash`: `hash` plus what decides an evaluation: every `data` key (the test CSV's path, label,
 *   dropped columns, row limit, reference, classes), `batch.rows` and the gas caps. evaluation.json carries it (the CSV's content is checked by
 *   `report` against the sha256 evaluation.json records).
 * `modelSha256` stands in for the model file's content hash (what the hash was before `ml2sc update`).
 */
export function configHashes(config: Omit<Config, 'hash' | 'evaluationHash'>, opts: { modelSha256?: string } = {}): ConfigHashes {
  const { path: modelPath, source, ...modelKeys } = config.model
  const contract = {
    // every model key (class, layers, inputShape, task, …), the files by their content
    model: { ...modelKeys, name: path.basename(modelPath), sha256: opts.modelSha256 ?? fileHash(modelPath), source: source ? fileHash(source) : undefined },
    weights: config.weights,
    precision: config.precision,
    upload: config.batch.upload,
    hardfork: config.chain.hardfork,
    owner: config.chain.owner?.toLowerCase(),
  }
  const hash = sha256(canonical(contract))
  // every data key (test, label, drop, limit, reference, classes, …), paths relative to the config
  const data = Object.fromEntries(Object.entries(config.data).map(([k, v]) => [k, typeof v === 'string' && path.isAbsolute(v) ? path.relative(config.dir, v) : v]))
  const evaluation = {
    hash,
    data,
    rows: config.batch.rows,
    txGasCap: config.chain.txGasCap,
    blockGasLimit: config.chain.blockGasLimit,
  }
  return { hash, evaluationHash: sha256(canonical(evaluation)) }
}
