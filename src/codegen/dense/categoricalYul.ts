import { expandedLayout } from '../../ir/categorical.ts'
import { inputScaleOf, layerWeightBytes, type Plan } from '../../fixed/types.ts'
import { selectorOf } from '../admin/abiSignatures.ts'
import { hex as h } from './laneKernel.ts'
import { laneMask, packetShift, weightBiasWord, type GroupLayout } from '../weights/weightBlob.ts'

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

/**
 * Words of gather scratch a row needs: per categorical column and shape, the packet's offset and the field's
 * shift; in the `code` layout, per categorical column and lane group, the gathered lane word itself.
 */
export const gatherWords = (plan: Plan, groups: GroupLayout[], code: boolean): number => (plan.categorical?.length ?? 0) * (code ? groups.length : 2 * gatherShapes(groups).length)

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

/** Input scale times a lane word, as on chain: `mul(w, S)` (or its shift) wraps modulo 2^256. */
const timesScale = (S: bigint, x: string) => (S & (S - 1n) ? `mul(${x}, ${h(S)})` : `shl(${S.toString(2).length - 1}, ${x})`)

/**
 * Yul (the `code` layout, whose lane words are constants in the code) that decodes the row at calldata `rp`:
 * the numeric features to mem `inputs`; each categorical feature checked, then its category found by a
 * binary search (⌈log2 n⌉ branches, the categories' lane words as constants in the leaves: the code proves
 * them like every other weight) and its lane word times the input scale stored per lane group at `scratch`,
 * where the group's accumulator adds it (gatherCodeAddYul).
 */
export function gatherCodeDecodeYul(plan: Plan, groups: GroupLayout[], inputs: number, scratch: number, decodeOp: string): string {
  const { at } = expandedLayout(plan.inputSize, plan.categorical)
  const S = inputScaleOf(plan)
  const weights = plan.layers[0]!.weights
  const word = (e: number, g: GroupLayout) => {
    let w = 0n
    for (let k = 0; k < g.lanes; k++) w += weights[g.first + k]![e]! << BigInt(g.spacing * k)
    return h(BigInt.asUintN(256, w * S))
  }
  const lines: string[] = []
  let k = 0
  for (let i = 0; i < plan.inputSize; i++) {
    const cat = plan.categorical!.find((c) => c.column === i)
    if (!cat) {
      lines.push(`mstore(${h(inputs + 32 * at[i]!)}, ${featureAt(plan, i, decodeOp)})`)
      continue
    }
    const base = scratch + 32 * k * groups.length
    const leaf = (c: number) => groups.map((g, gi) => `mstore(${h(base + 32 * gi)}, ${word(at[i]! + c, g)})`).join(' ')
    const search = (lo: number, hi: number): string => {
      if (hi - lo === 1) return leaf(lo)
      const mid = (lo + hi) >> 1
      return `switch lt(c, ${mid}) case 0 { ${search(mid, hi)} } default { ${search(lo, mid)} }`
    }
    lines.push(`{ let v := ${featureAt(plan, i, decodeOp)} // feature ${i}: a category of '${cat.name}', its lane words found by a binary search`, `  ${checkYul(plan, i, cat.count)}`, `  ${search(0, cat.count)} }`)
    k++
  }
  return lines.join('\n                ')
}

/** The `code` layout's gathered lane words of lane group `gi` (gatherCodeDecodeYul) added to `acc`. */
export function gatherCodeAddYul(plan: Plan, groups: GroupLayout[], gi: number, scratch: number): string[] {
  return (plan.categorical ?? []).map((_, k) => `acc := add(acc, mload(${h(scratch + 32 * (k * groups.length + gi))}))`)
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
  const wb = layerWeightBytes(plan, 0)
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
  const wb = layerWeightBytes(plan, 0)
  return (plan.categorical ?? []).map((_, k) => {
    const w = scratch + 64 * (k * shapes.length + s)
    const word = `and(shr(mload(${h(w + 32)}), mload(add(${base}, mload(${h(w)})))), ${h(laneMask(g, wb))})`
    return `acc := add(acc, ${timesScale(S, `sub(${word}, ${h(weightBiasWord(g, wb))})`)})`
  })
}
