import { existsSync, readdirSync, statSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { readReference } from '../data/readReference.ts'

/** A file name that says it holds outputs: `outputs.csv`, `reference_outputs.csv`, `mnist-outputs.csv`, `model.reference.csv`, … */
const OUTPUTS_NAME = /(^|[._-])(outputs?|reference|logits)\.csv$/i

/**
 * Names a file of PyTorch's outputs goes by, beside the model (then beside the test CSV), most specific first:
 * `<model>.reference.csv`, `<model>_outputs.csv`, `reference.csv`, `outputs.csv`, `reference_outputs.csv`,
 * `torch_outputs.csv`, then any other `*_outputs.csv`-like name in the folder, alphabetically.
 */
function candidates(model: string, test?: string): string[] {
  const stem = path.basename(model).replace(/\.[^.]*$/, '')
  const named = [`${stem}.reference.csv`, `${stem}.outputs.csv`, `${stem}_reference.csv`, `${stem}_outputs.csv`, 'reference.csv', 'outputs.csv', 'reference_outputs.csv', 'torch_outputs.csv', 'pytorch_outputs.csv']
  const dirs = [...new Set([path.dirname(model), ...(test ? [path.dirname(test)] : [])])]
  const files = dirs.flatMap((dir) => {
    const others = existsSync(dir) ? readdirSync(dir).filter((f) => OUTPUTS_NAME.test(f) && !(test && path.join(dir, f) === path.resolve(test))).sort() : []
    return [...named, ...others].map((f) => path.join(dir, f))
  })
  return [...new Set(files)].filter((f) => existsSync(f))
}

/** Data rows of a CSV (non-blank lines after the header); undefined for a file too large to count here. */
async function countRows(file: string): Promise<number | undefined> {
  if (statSync(file).size > 64 << 20) return undefined
  return (await readFile(file, 'utf8')).split(/\r?\n/).filter((l) => l.trim() !== '').length - 1
}

/**
 * PyTorch's outputs for the test rows, found beside the model or the test CSV (reference.csv,
 * reference_outputs.csv, <model>_outputs.csv, …): the first that has one value per model output and, when
 * the test CSV is known, one row per test row. `skipped` says why a file that looked like one was not taken.
 */
export async function findReference(model: string, outputs: number, test?: string): Promise<{ file?: string; skipped: string[] }> {
  const skipped: string[] = []
  let rows: number | undefined
  for (const file of candidates(model, test)) {
    try {
      const ref = await readReference(file, outputs)
      if (test && rows === undefined) rows = await countRows(test)
      if (rows !== undefined && ref.length !== rows) {
        skipped.push(`${path.basename(file)} has ${ref.length} rows, the test CSV ${rows}`)
        continue
      }
      return { file, skipped }
    } catch (e) {
      skipped.push(`${path.basename(file)}: ${(e as { shortMessage?: string }).shortMessage ?? String(e)}`)
    }
  }
  return { skipped }
}
