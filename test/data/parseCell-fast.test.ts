// parseCell's fast path for plain numeric cells (no trim, no regular expression) accepts and reads exactly
// what the NUMBER rule does: the same value for every number, the same refusal for everything else.
import { expect, test } from 'bun:test'
import { NUMBER, parseCell } from '../../src/data/parseCell.ts'
import { rng } from '../helpers/rng.ts'

const viaRule = (s: string) => (NUMBER.test(s.trim()) ? Number(s.trim()) : 'refused')
const viaCell = (s: string) => {
  try {
    return parseCell(s, 0, 'x', 'f.csv:2', false)
  } catch {
    return 'refused'
  }
}

test('parseCell = the NUMBER rule on edge cases and 20,000 random cells', () => {
  const tricky = ['0', '-0', '+1', '1.', '.5', '.', '', '-', '+', '1e5', '1e', '1e+', 'E5', 'e5', '1.2.3', ' 1', '1 ', '\t2\t', '0x10', 'Infinity', '-Infinity', 'NaN', '1_0', '-.5e-3', '5.E2', '+.e1', '00012', '1e400', '-1e-400', '١', '1,5', '--1', '+-1']
  for (const s of tricky) expect(Object.is(viaCell(s), viaRule(s)) || viaCell(s) === viaRule(s), JSON.stringify(s)).toBe(true)
  const r = rng(4)
  const alphabet = '0123456789.+-eE x'
  // the cells where the two differ (one expect for all 20,000, not one each)
  const differ: string[] = []
  for (let k = 0; k < 20_000; k++) {
    const s = Array.from({ length: 1 + Math.floor(r() * 7) }, () => alphabet[Math.floor(r() * alphabet.length)]).join('')
    if (!Object.is(viaCell(s), viaRule(s))) differ.push(JSON.stringify(s))
  }
  expect(differ).toEqual([])
})
