import { inputShiftOf } from '../../fixed/inputAsValue.ts'
import { applyInPlaceYul } from './activationYul.ts'
import type { Plan } from '../../fixed/types.ts'
import { hex as h } from './laneKernel.ts'
import type { MemoryMap } from './memoryMap.ts'

/** Vectors of at most this many words are joined without a loop. */
const UNROLL_JOIN = 64

/** Where value `v` of a graph model lives (0: the decoded inputs, k: layer k−1's activations). */
const valueAt = (mem: MemoryMap, v: number) => (v === 0 ? mem.inputs : mem.layers[v - 1]!.activations)

/** The word of value `v` at address expression `at`, at the activation scale (the inputs shifted to it: inputAsValue.ts). */
function load(plan: Plan, v: number, at: string): string {
  const d = v === 0 ? inputShiftOf(plan) : 0
  return d > 0 ? `shl(${d}, mload(${at}))` : d < 0 ? `sar(${-d}, mload(${at}))` : `mload(${at})`
}

/**
 * Yul that builds what layer `l` of a graph model reads at mem.layers[l].joined: an earlier value copied,
 * a residual sum (one ADD per element: both at the activation scale, bounded by interval analysis), or a
 * concatenation (the values copied one after another). Empty for a layer that reads the previous output.
 */
export function joinYul(plan: Plan, mem: MemoryMap, l: number): string {
  const layer = plan.layers[l]!
  const input = layer.input
  const to = mem.layers[l]!.joined
  if (!input || to === undefined) return ''
  const lines: string[] = [`// layer ${l} '${layer.name}' reads ${input.op === 'add' ? 'the sum' : 'the concatenation'} of values ${input.values.join(', ')}`]
  if (input.op === 'add') {
    const n = layer.nIn
    const sum = (at: (v: number) => string) => input.values.map((v) => load(plan, v, at(v))).reduceRight((rest, t) => (rest ? `add(${t}, ${rest})` : t), '')
    if (n <= UNROLL_JOIN) for (let i = 0; i < n; i++) lines.push(`mstore(${h(to + 32 * i)}, ${sum((v) => h(valueAt(mem, v) + 32 * i))})`)
    else lines.push(`{ for { let jo := 0 } lt(jo, ${h(32 * n)}) { jo := add(jo, 32) } { mstore(add(${h(to)}, jo), ${sum((v) => `add(${h(valueAt(mem, v))}, jo)`)}) } }`)
    if (input.post) lines.push(`{ ${applyInPlaceYul(input.post, h(to), n, plan)} }`)
    return lines.join('\n                ')
  }
  let offset = 0
  for (const v of input.values) {
    const n = v === 0 ? plan.inputSize : plan.layers[v - 1]!.nOut
    const from = valueAt(mem, v)
    const dst = to + 32 * offset
    if (n <= UNROLL_JOIN) for (let i = 0; i < n; i++) lines.push(`mstore(${h(dst + 32 * i)}, ${load(plan, v, h(from + 32 * i))})`)
    else lines.push(`{ for { let jo := 0 } lt(jo, ${h(32 * n)}) { jo := add(jo, 32) } { mstore(add(${h(dst)}, jo), ${load(plan, v, `add(${h(from)}, jo)`)}) } }`)
    offset += n
  }
  if (input.post) lines.push(`{ ${applyInPlaceYul(input.post, h(to), offset, plan)} }`)
  return lines.join('\n                ')
}
