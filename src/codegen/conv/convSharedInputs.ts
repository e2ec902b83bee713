import { activationExpr } from '../dense/activationYul.ts'
import { avgMerger } from './avgFusion.ts'
import { unbiasedField } from './biasedLanes.ts'
import type { ConvStep, LaneGroup, PoolStep } from './convTypes.ts'

const h = (n: number) => '0x' + n.toString(16)

/** Taps whose inputs are held in stack variables at once (each then multiplied into every lane group's accumulator). */
export const X_BLOCK = 8
/** Accumulators of a fused window row's positions side by side (lane groups × positions), at most. */
const PAIRED_ACCS = 4

/** Lane groups that share one pass over the inputs, at most: each holds an accumulator (and, with a fused max pool, its running maximum) on the stack. */
const BUNDLE = 4
const BUNDLE_FUSED = 3

/**
 * The lane groups of an unrolled conv in bundles (indices) that share their input loads: consecutive groups
 * reading the same input channels (not across the groups of a grouped/depthwise convolution), at most
 * BUNDLE of them (BUNDLE_FUSED with a fused max pool) so that every variable stays within DUP16's reach.
 */
export function bundlesOf(groups: LaneGroup[], fusedPool?: unknown, most = fusedPool ? BUNDLE_FUSED : BUNDLE): number[][] {
  const out: number[][] = []
  groups.forEach((g, i) => {
    const last = out[out.length - 1]
    if (last && last.length < most && groups[last[0]!]!.cinFirst === g.cinFirst) last.push(i)
    else out.push([i])
  })
  return out
}

/** An accumulator of the shared pass: its name, its bias word's address, and its terms (input byte offset from p, lane word address). */
export type SharedAcc = { name: string; init: string; terms: { x: number; w: string }[] }

/**
 * Multiply-accumulates of several accumulators (lane groups, and window positions side by side) in one pass
 * over their inputs, each input loaded once: X_BLOCK distinct inputs into variables, then one right-nested
 * chain per accumulator, so a lane word costs DUP, PUSH, MLOAD, MUL, ADD (17 gas) and an input's PUSH, DUP,
 * ADD, MLOAD (12) is paid once for every accumulator that reads it.
 */
export function sharedMacs(accs: SharedAcc[]): string[] {
  const offs = [...new Set(accs.flatMap((a) => a.terms.map((t) => t.x)))].sort((x, y) => x - y)
  const lines = [accs.map((a) => `let ${a.name} := mload(${a.init})`).join(' ')]
  for (let i = 0; i < offs.length; i += X_BLOCK) {
    const block = offs.slice(i, i + X_BLOCK)
    const xs = block.map((o, j) => `let x${j} := mload(${o ? `add(p, ${h(o)})` : 'p'})`)
    const chains = accs.flatMap((a) => {
      const ts = a.terms.filter((t) => block.includes(t.x))
      return ts.length ? [`${a.name} := ${ts.map((t) => `mul(x${block.indexOf(t.x)}, mload(${t.w}))`).reduceRight((rest, t) => `add(${t}, ${rest})`, a.name)}`] : []
    })
    lines.push(`{ ${xs.join(' ')} ${chains.join(' ')} }`)
  }
  return lines
}

/**
 * A fused max pool's running maximum of one lane group's accumulators (convYul.ts fusedMaxBody): lanes
 * biased to unsigned by the bias word, compared as packed words (one SWAR compare per word when interval
 * analysis leaves every lane's top bit free, else even and odd lanes apart), unpacked once per pooled value.
 * `id` names the group's variables (A<id>, or E<id> and O<id>); G, ME and LM are shared declarations.
 */
export type MaxMerger = { decl: string; first: (acc: string) => string; merge: (acc: string) => string; finish: string[] }

export function maxMerger(s: ConvStep, pool: PoolStep, lanes: number, half: bigint, id: string, outAt: (k: number) => string, oneCompare = half < 1n << BigInt(s.laneBits - 1), scratch?: number): MaxMerger {
  const b = s.laneBits
  // the shared constants, declared by mergerConstants (as literals, solc's optimizer would load them by CODECOPY)
  const c = { G: 'G', ME: 'ME', G2: 'G2' }
  const convAct = activationExpr(s.activation, 'v', s.slopeQ)
  const poolAct = activationExpr(pool.activation, 'u', pool.slopeQ)
  const store = (k: number, value: string) => `{ let v := ${value} let u := ${convAct} mstore(${outAt(k)}, ${poolAct}) }`
  const LM = '0x' + ((1n << BigInt(b)) - 1n).toString(16)
  const unbias = (k: number, r: string) => store(k, unbiasedField(r, k, b, s.wShift, half))
  if (lanes === 1) {
    const M = `M${id}`
    return { decl: `let ${M} := 0`, first: (acc) => `${M} := ${acc}`, merge: (acc) => `if sgt(${acc}, ${M}) { ${M} := ${acc} }`, finish: [store(0, `sar(${s.wShift}, ${M})`)] }
  }
  const A = `A${id}`
  if (oneCompare) {
    const low = '0x' + ((1n << BigInt(b - 1)) - 1n).toString(16)
    return {
      decl: `let ${A} := 0`,
      first: (acc) => `${A} := ${acc}`,
      merge: (acc) => `{ let m := mul(shr(${b - 1}, and(sub(or(${A}, ${c.G}), ${acc}), ${c.G})), ${low}) ${A} := xor(${acc}, and(xor(${A}, ${acc}), m)) }`,
      finish: Array.from({ length: lanes }, (_, k) => unbias(k, A)),
    }
  }
  // the even and odd maxima in two memory words at `scratch` instead of two stack slots
  if (scratch !== undefined) {
    const [EA, OA] = [`0x${scratch.toString(16)}`, `0x${(scratch + 32).toString(16)}`]
    const mergeAt = (W: string, x: string) => `{ let x := ${x} let w := mload(${W}) let m := mul(shr(${b}, and(sub(or(w, ${c.G2}), x), ${c.G2})), ${LM}) mstore(${W}, xor(x, and(xor(w, x), m))) }`
    return {
      decl: '',
      first: (acc) => `mstore(${EA}, and(${acc}, ${c.ME})) mstore(${OA}, and(shr(${b}, ${acc}), ${c.ME}))`,
      merge: (acc) => `${mergeAt(EA, `and(${acc}, ${c.ME})`)} ${mergeAt(OA, `and(shr(${b}, ${acc}), ${c.ME})`)}`,
      finish: [`{ let r := or(mload(${EA}), shl(${b}, mload(${OA}))) ${Array.from({ length: lanes }, (_, k) => unbias(k, 'r')).join(' ')} }`],
    }
  }
  const [E, O] = [`E${id}`, `O${id}`]
  const merge2 = (W: string, x: string) => `{ let x := ${x} let m := mul(shr(${b}, and(sub(or(${W}, ${c.G2}), x), ${c.G2})), ${LM}) ${W} := xor(x, and(xor(${W}, x), m)) }`
  return {
    decl: `let ${E} := 0 let ${O} := 0`,
    first: (acc) => `${E} := and(${acc}, ${c.ME}) ${O} := and(shr(${b}, ${acc}), ${c.ME})`,
    merge: (acc) => `${merge2(E, `and(${acc}, ${c.ME})`)} ${merge2(O, `and(shr(${b}, ${acc}), ${c.ME})`)}`,
    finish: [`{ let r := or(${E}, shl(${b}, ${O})) ${Array.from({ length: lanes }, (_, k) => unbias(k, 'r')).join(' ')} }`],
  }
}

/** The shared constants of the mergers: G (guard bits of the one-compare form), G2 and ME (even/odd lanes apart). */
export function mergerConstants(s: ConvStep, lanes: number, half: bigint, oneCompare = half < 1n << BigInt(s.laneBits - 1)): string {
  if (lanes === 1) return ''
  const w = mergerWords(s, lanes)
  return oneCompare ? `let G := ${w.G}` : `let ME := ${w.ME} let G2 := ${w.G2}`
}

function mergerWords(s: ConvStep, lanes: number): { G: string; ME: string; G2: string } {
  const b = s.laneBits
  let g = 0n
  for (let k = 0; k < lanes; k++) g |= 1n << BigInt(k * b + b - 1)
  let me = 0n
  let g2 = 0n
  for (let k = 0; 2 * k < lanes; k++) {
    me |= ((1n << BigInt(b)) - 1n) << BigInt(2 * k * b)
    g2 |= 1n << BigInt(2 * k * b + b)
  }
  return { G: `0x${g.toString(16)}`, ME: `0x${me.toString(16)}`, G2: `0x${g2.toString(16)}` }
}

/**
 * The body for one position of an unrolled conv whose lane groups share their inputs (sharesInputs): every
 * group's accumulator from one pass over the taps (sharedMacs), then each group unpacked (`unpack`), or,
 * with a fused max pool, the window's positions merged per group and unpacked once per pooled value.
 * p (or pp with a pool) is the window's top-left address, yo the output of the first group's first channel.
 */
export function sharedBody(a: {
  s: ConvStep
  groups: LaneGroup[]
  taps: number
  tapOff: (t: number) => number
  wAt: (g: number, t: number) => string
  biasAt: (g: number) => string
  unpack: (g: number) => string[]
  /** `halves`: each group's own unsigned offset (row lanes); `oneCompare`: the merger's form, when not read off `half`. */
  /** `sums` (an average pool, avgFusion.ts): the address of the first channel's sum word, one word per channel after it. */
  pool?: { step: PoolStep; half: bigint; halves?: bigint[]; oneCompare?: boolean; scratch?: number; sums?: number; winOff: (j: number) => number; winAt: (j: number) => string; loopAt: string; unrollWindow: boolean; outAt: (g: number, k: number) => string }
}): string[] {
  const G = a.groups.length
  // the accumulators of the groups at window position delta d (bytes) from p, named acc<g><suffix>
  const accs = (d: number, suffix = '') =>
    a.groups.map((_, g) => ({ name: `acc${g}${suffix}`, init: a.biasAt(g), terms: Array.from({ length: a.taps }, (_, t) => ({ x: a.tapOff(t) + d, w: a.wAt(g, t) })) }))
  if (!a.pool) return [...sharedMacs(accs(0)), ...a.groups.map((_, g) => `{ let acc := acc${g} ${a.unpack(g).join(' ')} }`)]
  const { step: pool, half, winOff, winAt, loopAt, unrollWindow, outAt } = a.pool
  const one = a.pool.oneCompare ?? half < 1n << BigInt(a.s.laneBits - 1)
  const sums = a.pool.sums
  const mergers = a.groups.map((g, gi) => sums !== undefined ? avgMerger(a.s, pool, g.lanes, (k) => '0x' + (sums + 32 * (g.first - a.groups[0]!.first + k)).toString(16), (k) => outAt(gi, k)) : maxMerger(a.s, pool, g.lanes, a.pool!.halves?.[gi] ?? half, String(gi), (k) => outAt(gi, k), one, a.pool!.scratch === undefined ? undefined : a.pool!.scratch + 64 * gi))
  const lanes = Math.max(...a.groups.map((g) => g.lanes))
  const decls = [sums === undefined ? mergerConstants(a.s, lanes, half, one) : '', ...mergers.map((m) => m.decl)].filter(Boolean).join(' ')
  const finish = mergers.flatMap((m) => m.finish)
  const kw = pool.kw
  if (unrollWindow && kw > 1 && G * kw <= PAIRED_ACCS) {
    // a window row's positions side by side: the inputs their windows share are loaded once
    const rows = Array.from({ length: pool.kh }, (_, r) => {
      const j0 = r * kw
      const all = Array.from({ length: kw }, (_, c) => accs(winOff(j0 + c) - winOff(j0), `_${c}`)).flat()
      const merges = Array.from({ length: kw }, (_, c) => mergers.map((m, g) => (j0 + c ? m.merge(`acc${g}_${c}`) : m.first(`acc${g}_${c}`))).join(' '))
      return `{ let p := ${winAt(j0)} ${sharedMacs(all).join(' ')} ${merges.join(' ')} }`
    })
    return [decls, ...rows, ...finish]
  }
  const macs = sharedMacs(accs(0))
  const first = mergers.map((m, g) => m.first(`acc${g}`)).join(' ')
  const merge = mergers.map((m, g) => m.merge(`acc${g}`)).join(' ')
  return [decls, ...windowCode(pool, macs, first, merge, winAt, loopAt, unrollWindow), ...finish]
}

/** A fused pool window's positions: each one's accumulators (`macs`, at p), then `merge` (the first: `first`); unrolled, or a loop over wj. */
export function windowCode(pool: PoolStep, macs: string[], first: string, merge: string, winAt: (j: number) => string, loopAt: string, unroll: boolean): string[] {
  const n = pool.kh * pool.kw
  if (unroll) return Array.from({ length: n }, (_, j) => `{ let p := ${winAt(j)} ${macs.join(' ')} ${j ? merge : first} }`)
  return [`for { let wj := 0 } lt(wj, ${n}) { wj := add(wj, 1) } { let p := ${loopAt} ${macs.join(' ')} switch wj case 0 { ${first} } default { ${merge} } }`]
}

/** Address of window position wj (a run-time variable) from pp, given each position's byte offset. */
export function windowLoopAt(pool: PoolStep, winOff: (j: number) => number): string {
  return `add(pp, ${pool.kw === 1 ? `mul(wj, ${h(winOff(1))})` : `add(mul(div(wj, ${pool.kw}), ${h(winOff(pool.kw))}), mul(mod(wj, ${pool.kw}), ${h(winOff(1))}))`})`
}
