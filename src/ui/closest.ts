/** Edit distance (insertions, deletions, substitutions, and swaps of two neighbours) between two words. */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1)
    }
  return d[a.length]![b.length]!
}

/**
 * The candidate closest to `word` (case-insensitive), when it is close enough to be a likely typo: at most
 * a third of the word's letters away (at least 1), or `word` is a prefix of it. Undefined otherwise.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase()
  let best: { name: string; d: number } | undefined
  for (const name of candidates) {
    const d = editDistance(w, name.toLowerCase())
    if (!best || d < best.d) best = { name, d }
  }
  if (best && best.d <= Math.max(1, Math.floor(w.length / 3))) return best.name
  const prefixed = w.length >= 2 ? candidates.filter((c) => c.toLowerCase().startsWith(w)) : []
  return prefixed.length === 1 ? prefixed[0] : undefined
}
