import { existsSync, readdirSync, statSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { readReference } from '../data/readReference.ts'

/** Names a file of PyTorch's outputs goes by beside the model, most specific first. */
function candidates(model: string): string[] {
  const dir = path.dirname(model)
  const stem = path.basename(model).replace(/\.[^.]*$/, '')
  const named = [`${stem}.reference.csv`, `${stem}.outputs.csv`, 'reference.csv', 'outputs.csv', 'torch_outputs.csv']
  const others = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.outputs.csv')).sort() : []
  return [...new Set([...named, ...others])].map((f) => path.join(dir, f)).filter((f) => existsSync(f))
}

/**
 * PyTorch's outputs for the test rows, found beside the model (reference.csv, <model>.outputs.csv, …):
 * the first that has one value per model output and, when the test CSV is known, one row per test row.
 * `skipped` says why a file that looked like one was not taken.
 */
/** Data rows of a CSV (non-blank lines after the header); undefined for a file too large to count here. */
async function countRows(file: string): Promise<number | undefined> {
  if (statSync(file).size > 64 << 20) return undefined
  return (await readFile(file, 'utf8')).split(/\r?\n/).filter((l) => l.trim() !== '').length - 1
}

export async function findReference(model: string, outputs: number, test?: string): Promise<{ file?: string; skipped: string[] }> {
  const skipped: string[] = []
  let rows: number | undefined
  for (const file of candidates(model)) {
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
