import { expandedLayout } from '../ir/categorical.ts'
import { inputScaleOf, type Plan } from '../fixed/types.ts'
import { selectorOf } from './abiSignatures.ts'
import { hex as h } from './laneKernel.ts'
import { laneMask, packetShift, weightBiasWord, type GroupLayout } from './weightBlob.ts'

/** The custom error of a categorical feature that is not a category index (row in the batch, feature column, the raw value). */
export const BAD_CATEGORY = 'error BadCategory(uint256 row, uint256 feature, int256 value)'

/**
 * Inputs of layer `l` that its lane words multiply: all of them, except in the first layer of a model with
 * nn.Embedding columns, where only the numeric columns (the expanded input's first ones) are multiplied
 * and each categorical column's weight column is gathered.
 */
export const multipliedInputs = (plan: Plan, l: number): number => (l === 0 && plan.categorical?.length ? expandedLayout(plan.inputSize, plan.categorical).numeric : plan.layers[l]!.nIn)

/** The lane-group shapes of layer 0 (full groups, then a short last one): a gather's packet offset and shift differ per shape. */
export const gatherShapes = (groups: GroupLayout[]): GroupLayout[] => groups.filter((g, i) => i === 0 || (g.lanes !== groups[0]!.lanes && i === groups.length - 1))

/** Words of gather scratch a row needs: per categorical column and shape, the packet's offset and the field's shift. */
export const gatherWords = (plan: Plan, groups: GroupLayout[]): number => 2 * (plan.categorical?.length ?? 0) * gatherShapes(groups).length

/** The check of one categorical feature `v` into its category `c` (a whole number of input-scale units below count, else BadCategory). */
function checkYul(plan: Plan, i: number, count: number): string {
  const S = inputScaleOf(plan)
  const rowBytes = plan.inputSize * plan.inputBytes
  return `let c := sdiv(v, ${h(S)})
                  if or(iszero(eq(mul(c, ${h(S)}), v)), iszero(lt(c, ${count}))) { mstore(0, shl(224, ${selectorOf(BAD_CATEGORY)})) mstore(4, div(sub(rp, off), ${rowBytes})) mstore(36, ${i}) mstore(68, v) revert(0, 100) }`
}

/** `x + n` in Yul, n of either sign (a lone packet trimmed of its lead is MLOADed before its group's bias bytes end). */
const offsetYul = (x: string, n: number) => (n > 0 ? `add(${x}, ${n})` : n < 0 ? `sub(${x}, ${-n})` : x)

const featureAt = (plan: Plan, i: number, decodeOp: string) => `${decodeOp}(${256 - 8 * plan.inputBytes}, calldataload(${i ? `add(rp, ${h(i * plan.inputBytes)})` : 'rp'}))`

/**
 * Yul (the `code` layout, whose lane words are constants in the code) that decodes the row at calldata `rp`
 * into its expanded input at mem `inputs` (ir/categorical.ts): a numeric feature as usual; a categorical one
 * is checked and written as its one-hot vector (the scale at the category, zero elsewhere).
 */
export function categoricalDecodeYul(plan: Plan, inputs: number, decodeOp: string): string {
  const S = inputScaleOf(plan)
  const { at } = expandedLayout(plan.inputSize, plan.categorical)
  const lines: string[] = []
  for (let i = 0; i < plan.inputSize; i++) {
    const dst = inputs + 32 * at[i]!
    const cat = plan.categorical!.find((c) => c.column === i)
    if (!cat) {
      lines.push(`mstore(${h(dst)}, ${featureAt(plan, i, decodeOp)})`)
      continue
    }
    const clear = Array.from({ length: cat.count }, (_, k) => `mstore(${h(dst + 32 * k)}, 0)`).join(' ')
    lines.push(`{ let v := ${featureAt(plan, i, decodeOp)} // feature ${i}: a category of '${cat.name}'`, `  ${checkYul(plan, i, cat.count)}`, `  ${clear} mstore(add(${h(dst)}, shl(5, c)), ${h(S)}) }`)
  }
  return lines.join('\n                ')
}

/**
 * Yul that decodes the row at calldata `rp` of a model with nn.Embedding columns for the gather: the numeric
 * features to mem `inputs` (in the expanded layout's order, `sum`: also into `sx`, the fused kernel's Σx);
 * each categorical feature checked, and its category's weight column located in every lane-group shape of
 * layer 0: the offset of the packet that holds it (from the group's start) and the shift of its field, two
 * scratch words at `scratch`. The weights stay the blob's (the commitment's) bytes: nothing is copied.
 */
export function gatherDecodeYul(plan: Plan, groups: GroupLayout[], inputs: number, scratch: number, decodeOp: string, sum: boolean): string {
  const { at } = expandedLayout(plan.inputSize, plan.categorical)
  const shapes = gatherShapes(groups)
  const wb = plan.weightBytes
  const lines: string[] = sum ? ['let sx := 0'] : []
  let k = 0
  for (let i = 0; i < plan.inputSize; i++) {
    const cat = plan.categorical!.find((c) => c.column === i)
    if (!cat) {
      const x = featureAt(plan, i, decodeOp)
      lines.push(sum ? `{ let v := ${x} mstore(${h(inputs + 32 * at[i]!)}, v) sx := add(sx, v) }` : `mstore(${h(inputs + 32 * at[i]!)}, ${x})`)
      continue
    }
    // expanded input e = at + c sits in packet t = e / perWord, field e − t·perWord
    const locate = shapes.map((g, s) => {
      const w = scratch + 64 * (k * shapes.length + s)
      return `{ let t := div(e, ${g.perWord}) mstore(${h(w)}, ${offsetYul(`mul(t, ${g.packetBytes})`, g.biasBytes - g.lead)}) mstore(${h(w + 32)}, add(${packetShift(g, 0, wb)}, mul(sub(e, mul(t, ${g.perWord})), ${8 * wb}))) }`
    })
    lines.push(`{ let v := ${featureAt(plan, i, decodeOp)} // feature ${i}: a category of '${cat.name}', its weight column gathered`, `  ${checkYul(plan, i, cat.count)}`, `  let e := add(c, ${at[i]!}) ${locate.join(' ')} }`)
    k++
  }
  return lines.join('\n                ')
}

/**
 * Statements adding each categorical column's gathered weight column (lane group `g`, whose bytes start at
 * memory `base`) times the input scale (the one-hot entry) to `acc`: the packet's word, shifted and masked to
 * the biased lane word, the weights' unsigned bias taken out. The same integers as the one-hot MACs.
 */
export function gatherAddYul(plan: Plan, groups: GroupLayout[], g: GroupLayout, scratch: number, base: string): string[] {
  const shapes = gatherShapes(groups)
  const s = g.lanes === shapes[0]!.lanes ? 0 : 1
  const S = inputScaleOf(plan)
  const times = (x: string) => (S & (S - 1n) ? `mul(${x}, ${h(S)})` : `shl(${S.toString(2).length - 1}, ${x})`)
  const wb = plan.weightBytes
  return (plan.categorical ?? []).map((_, k) => {
    const w = scratch + 64 * (k * shapes.length + s)
    const word = `and(shr(mload(${h(w + 32)}), mload(add(${base}, mload(${h(w)})))), ${h(laneMask(g, wb))})`
    return `acc := add(acc, ${times(`sub(${word}, ${h(weightBiasWord(g, wb))})`)})`
  })
}
