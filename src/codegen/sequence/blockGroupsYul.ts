import { hex as h, macChain } from '../dense/laneKernel.ts'
import type { BlockLayout } from './recurrentBlob.ts'

/**
 * Yul for one lane block (a GRU/LSTM gate matrix, an attention projection, a dense head): per lane group, the
 * accumulator starts at the group's bias word (`packed[g]`), adds each column's value `col(j)` (a Yul
 * expression) times the group's lane word for that column, then its lanes are split off one by one (signed,
 * `laneBits` apart) and `store(row, v)` receives each row's v = acc_row >> wShift.
 */
export function blockGroupsYul(b: BlockLayout, packed: number[], col: (j: number) => string, store: (row: number, v: string) => string): string[] {
  const L = b.block.laneBits
  const cols = b.block.weights[0]!.length
  return b.groups.map((g, gi) => {
    const p = packed[gi]!
    const lines = [`let acc := mload(${h(p)})`, ...macChain(Array.from({ length: cols }, (_, j) => `mul(${col(j)}, mload(${h(p + 32 * (j + 1))}))`))]
    for (let k = 0; k < g.lanes; k++) {
      const last = k === g.lanes - 1
      const lane = last && g.lanes === 1 ? 'acc' : `signextend(${L / 8 - 1}, acc)`
      if (last) lines.push(`{ let v := sar(${b.block.wShift}, ${lane}) ${store(g.first + k, 'v')} }`)
      else lines.push(`{ let lane := ${lane} let v := sar(${b.block.wShift}, lane) ${store(g.first + k, 'v')} acc := sar(${L}, sub(acc, lane)) }`)
    }
    return `{ ${lines.join('\n                    ')} }`
  })
}
