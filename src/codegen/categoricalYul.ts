import { expandedLayout } from '../ir/categorical.ts'
import { inputScaleOf, type Plan } from '../fixed/types.ts'
import { selectorOf } from './abiSignatures.ts'
import { hex as h } from './laneKernel.ts'

/** The custom error of a categorical feature that is not a category index (row in the batch, feature column, the raw value). */
export const BAD_CATEGORY = 'error BadCategory(uint256 row, uint256 feature, int256 value)'

/**
 * Yul that decodes the row at calldata `rp` of a model with nn.Embedding columns into its expanded input
 * at mem `inputs` (ir/categorical.ts): a numeric feature as usual; a categorical one is checked (a whole
 * number of input-scale units in [0, count), else BadCategory(row, feature, value)) and written as its
 * one-hot vector (the scale at the category, zero elsewhere: the words of the previous row are cleared).
 * `sum` also adds the expanded values into `sx` (the fused kernel's Σx).
 */
export function categoricalDecodeYul(plan: Plan, inputs: number, decodeOp: string, sum: boolean): string {
  const inB = plan.inputBytes
  const sh = 256 - 8 * inB
  const S = inputScaleOf(plan)
  const { at } = expandedLayout(plan.inputSize, plan.categorical)
  const rowBytes = plan.inputSize * inB
  const lines: string[] = sum ? ['let sx := 0'] : []
  for (let i = 0; i < plan.inputSize; i++) {
    const x = `${decodeOp}(${sh}, calldataload(${i ? `add(rp, ${h(i * inB)})` : 'rp'}))`
    const dst = inputs + 32 * at[i]!
    const cat = plan.categorical!.find((c) => c.column === i)
    if (!cat) {
      lines.push(sum ? `{ let v := ${x} mstore(${h(dst)}, v) sx := add(sx, v) }` : `mstore(${h(dst)}, ${x})`)
      continue
    }
    const clear = Array.from({ length: cat.count }, (_, k) => `mstore(${h(dst + 32 * k)}, 0)`).join(' ')
    lines.push(
      `{ let v := ${x} let c := sdiv(v, ${h(S)}) // feature ${i}: a category of '${cat.name}'`,
      `  if or(iszero(eq(mul(c, ${h(S)}), v)), iszero(lt(c, ${cat.count}))) { mstore(0, shl(224, ${selectorOf(BAD_CATEGORY)})) mstore(4, div(sub(rp, off), ${rowBytes})) mstore(36, ${i}) mstore(68, v) revert(0, 100) }`,
      `  ${clear} mstore(add(${h(dst)}, shl(5, c)), ${h(S)})${sum ? ` sx := add(sx, ${h(S)})` : ''} }`,
    )
  }
  return lines.join('\n                ')
}
