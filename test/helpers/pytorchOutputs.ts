import { readFileSync } from 'node:fs'
import path from 'node:path'
import { encodeRow } from '../../src/fixed/encodeRows.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { referenceForward } from '../../src/fixed/referenceForward.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import type { ModelIR } from '../../src/ir/types.ts'

/**
 * A fixture's PyTorch outputs (`<dir>/reference.csv`: a header, then `row,out0,out1,…`), one array per test
 * row. Read here on its own, not through ml2sc's data.reference reader, so that tests compare with PyTorch
 * even if that reader were wrong.
 */
export function pytorchOutputs(dir: string): number[][] {
  return readFileSync(path.join(dir, 'reference.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').slice(1).map(Number))
}

/**
 * How far a read model is from PyTorch's outputs `torch` on `rows`: the float reference's worst difference,
 * and the bit-exact simulator's at 32-bit weights and inputs, 2^20 (its outputs divided back by 2^20); and
 * the float output's width on each row.
 */
export function worstErrors(model: ModelIR, rows: number[][], torch: number[][]): { float: number; fixed: number; widths: number[] } {
  const plan = makePlan(model, { fraction: 20, weightBytes: 4, inputBytes: 4 })
  let float = 0
  let fixed = 0
  const widths = rows.map((row, r) => {
    const f = referenceForward(model, row)
    const q = simulate(plan, (encodeRow(plan, row) as { values: bigint[] }).values)
    f.forEach((v, j) => {
      float = Math.max(float, Math.abs(v - torch[r]![j]!))
      fixed = Math.max(fixed, Math.abs(Number(q[j]!) / 2 ** 20 - torch[r]![j]!))
    })
    return f.length
  })
  return { float, fixed, widths }
}
