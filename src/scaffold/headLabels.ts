import type { Head } from '../ir/types.ts'
import type { DataGuess } from './guessData.ts'
import { holdsClasses } from './matchLabel.ts'

/** The label columns init writes for a multi-output model, and how they were found (for the GUESSED note). */
export type HeadLabels = { labels: string[]; how: 'names' | 'rest-named' | 'last' }

/**
 * One label column per head of a multi-output model, guessed from the CSV: every head named as a column
 * (`next`, `up`: those columns, in the heads' order); else the label found, then the other heads named as
 * columns; else, when the heads have no column of their name (`out0`, `out1`) and the label found is one of the
 * CSV's last n columns (n heads), those n columns in order, each class head's column holding its class indices.
 * undefined when nothing fits (init then warns that the feature count is off).
 */
export function headLabels(data: DataGuess, heads: Head[]): HeadLabels | undefined {
  const usable = (c: string | undefined): c is string => c !== undefined && !data.drop.includes(c)
  const named = (n: string) => data.header.find((c) => c === n) ?? data.header.find((c) => c.toLowerCase() === n.toLowerCase())
  const all = heads.map((h) => named(h.name))
  if (new Set(all).size === all.length && all.every(usable)) return { labels: all, how: 'names' }
  const more = heads.slice(1).map((h) => named(h.name))
  if (more.every((c) => usable(c) && c !== data.label)) return { labels: [data.label, ...(more as string[])], how: 'rest-named' }
  const columns = data.header.filter((c) => !data.drop.includes(c))
  const last = columns.slice(-heads.length)
  if (columns.length <= heads.length || !last.includes(data.label)) return undefined
  const fits = heads.every((h, i) => h.size === 1 || holdsClasses(data.sample, data.header.indexOf(last[i]!), h.size))
  return fits ? { labels: last, how: 'last' } : undefined
}
