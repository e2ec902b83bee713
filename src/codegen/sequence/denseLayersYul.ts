import type { Plan } from '../../fixed/types.ts'
import { activationExpr, vectorActivationYul } from '../dense/activationYul.ts'
import { concatReader } from '../dense/concatReader.ts'
import { hex as h } from '../dense/laneKernel.ts'

/** A dense layer's lane block in Yul: its columns' values `col(j)`, each row's result to `store(row, v)` (./blockGroupsYul.ts). */
type LayerBlock = (layer: number, col: (j: number) => string, store: (row: number, v: string) => string) => string[]

/**
 * Yul for the dense layers after a GRU/LSTM or self-attention: layer k writes its activated outputs at
 * `dense[k]`. `valueAt(v, j)` is the address of element j of value v (0: the sequence layer's output, of
 * width `inputWidth`; k: dense layer k−1's outputs); a multi-output model's head reads an earlier value, its
 * `heads` layer the heads' values one after another (ir/heads.ts), where they lie (concatReader).
 */
export function denseLayersYul(plan: Plan, dense: number[], valueAt: (v: number, j: number) => number, inputWidth: number, block: LayerBlock): string[] {
  const rows: string[] = []
  plan.layers.forEach((l, li) => {
    const out = dense[li]!
    rows.push(`// layer '${l.name}': ${l.nIn} → ${l.nOut}`)
    const at = l.input ? concatReader(l.input, (v) => (v === 0 ? inputWidth : plan.layers[v - 1]!.nOut), valueAt) : (j: number) => valueAt(li, j)
    rows.push(...block(li, (j) => `mload(${h(at(j))})`, (row, v) => `mstore(${h(out + 32 * row)}, ${activationExpr(l.activation, v, l.slopeQ)})`))
    const vec = vectorActivationYul(l.activation, h(out), l.nOut, plan)
    if (vec) rows.push(vec)
  })
  return rows
}
