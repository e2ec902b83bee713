import { activationExpr } from './activationYul.ts'
import type { ConvStep, LaneGroup, PoolStep } from './convTypes.ts'

const h = (n: number) => '0x' + n.toString(16)

/** Taps whose inputs are held in stack variables at once (each then multiplied into every lane group's accumulator). */
export const X_BLOCK = 8

/** Lane groups that share one pass over the inputs, at most: each holds an accumulator (and, with a fused max pool, its running maximum) on the stack. */
const BUNDLE = 4
const BUNDLE_FUSED = 3

/**
 * The lane groups of an unrolled conv in bundles (indices) that share their input loads: consecutive groups
 * reading the same input channels (not across the groups of a grouped/depthwise convolution), at most
 * BUNDLE of them (BUNDLE_FUSED with a fused max pool) so that every variable stays within DUP16's reach.
 */
export function bundlesOf(groups: LaneGroup[], fusedPool?: unknown): number[][] {
  const most = fusedPool ? BUNDLE_FUSED : BUNDLE
  const out: number[][] = []
  groups.forEach((g, i) => {
    const last = out[out.length - 1]
    if (last && last.length < most && groups[last[0]!]!.cinFirst === g.cinFirst) last.push(i)
    else out.push([i])
  })
  return out
}

/**
 * Multiply-accumulates of every lane group at one position, the input loaded once per tap: X_BLOCK inputs
 * into variables, then one right-nested chain per group (`acc<g>`), so a lane word costs DUP, PUSH, MLOAD,
 * MUL, ADD (17 gas) and each input's PUSH, DUP, ADD, MLOAD (12) is paid once for all groups, not per group.
 */
export function sharedMacs(taps: number, groups: number, xAt: (t: number) => string, wAt: (g: number, t: number) => string): string[] {
  const lines: string[] = []
  for (let t0 = 0; t0 < taps; t0 += X_BLOCK) {
    const n = Math.min(X_BLOCK, taps - t0)
    const xs = Array.from({ length: n }, (_, j) => `let x${j} := mload(${xAt(t0 + j)})`)
    const chains = Array.from({ length: groups }, (_, g) => `acc${g} := ${Array.from({ length: n }, (_, j) => `mul(x${j}, mload(${wAt(g, t0 + j)}))`).reduceRight((rest, t) => `add(${t}, ${rest})`, `acc${g}`)}`)
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

export function maxMerger(s: ConvStep, pool: PoolStep, lanes: number, half: bigint, id: string, outAt: (k: number) => string): MaxMerger {
  const b = s.laneBits
  const convAct = activationExpr(s.activation, 'v', s.slopeQ)
  const poolAct = activationExpr(pool.activation, 'u', pool.slopeQ)
  const store = (k: number, value: string) => `{ let v := ${value} let u := ${convAct} mstore(${outAt(k)}, ${poolAct}) }`
  const LM = '0x' + ((1n << BigInt(b)) - 1n).toString(16)
  const unbias = (k: number, r: string) => store(k, `sar(${s.wShift}, sub(and(${k ? `shr(${k * b}, ${r})` : r}, ${LM}), 0x${half.toString(16)}))`)
  if (lanes === 1) {
    const M = `M${id}`
    return { decl: `let ${M} := 0`, first: (acc) => `${M} := ${acc}`, merge: (acc) => `if sgt(${acc}, ${M}) { ${M} := ${acc} }`, finish: [store(0, `sar(${s.wShift}, ${M})`)] }
  }
  const A = `A${id}`
  if (half < 1n << BigInt(b - 1)) {
    const low = '0x' + ((1n << BigInt(b - 1)) - 1n).toString(16)
    return {
      decl: `let ${A} := 0`,
      first: (acc) => `${A} := ${acc}`,
      merge: (acc) => `{ let m := mul(shr(${b - 1}, and(sub(or(${A}, G), ${acc}), G)), ${low}) ${A} := xor(${acc}, and(xor(${A}, ${acc}), m)) }`,
      finish: Array.from({ length: lanes }, (_, k) => unbias(k, A)),
    }
  }
  const [E, O] = [`E${id}`, `O${id}`]
  const merge2 = (W: string, x: string) => `{ let x := ${x} let m := mul(shr(${b}, and(sub(or(${W}, G2), x), G2)), ${LM}) ${W} := xor(x, and(xor(${W}, x), m)) }`
  return {
    decl: `let ${E} := 0 let ${O} := 0`,
    first: (acc) => `${E} := and(${acc}, ME) ${O} := and(shr(${b}, ${acc}), ME)`,
    merge: (acc) => `${merge2(E, `and(${acc}, ME)`)} ${merge2(O, `and(shr(${b}, ${acc}), ME)`)}`,
    finish: [`{ let r := or(${E}, shl(${b}, ${O})) ${Array.from({ length: lanes }, (_, k) => unbias(k, 'r')).join(' ')} }`],
  }
}

/** The shared constants of the mergers: G (guard bits of the one-compare form), G2 and ME (even/odd lanes apart). */
export function mergerConstants(s: ConvStep, lanes: number, half: bigint): string {
  const b = s.laneBits
  let g = 0n
  for (let k = 0; k < lanes; k++) g |= 1n << BigInt(k * b + b - 1)
  if (lanes === 1) return ''
  if (half < 1n << BigInt(b - 1)) return `let G := 0x${g.toString(16)}`
  let me = 0n
  let g2 = 0n
  for (let k = 0; 2 * k < lanes; k++) {
    me |= ((1n << BigInt(b)) - 1n) << BigInt(2 * k * b)
    g2 |= 1n << BigInt(2 * k * b + b)
  }
  return `let ME := 0x${me.toString(16)} let G2 := 0x${g2.toString(16)}`
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
  xAt: (t: number) => string
  wAt: (g: number, t: number) => string
  biasAt: (g: number) => string
  unpack: (g: number) => string[]
  pool?: { step: PoolStep; half: bigint; winAt: (j: number) => string; loopAt: string; unrollWindow: boolean; outAt: (g: number, k: number) => string }
}): string[] {
  const G = a.groups.length
  const macs = [Array.from({ length: G }, (_, g) => `let acc${g} := mload(${a.biasAt(g)})`).join(' '), ...sharedMacs(a.taps, G, a.xAt, a.wAt)]
  if (!a.pool) return [...macs, ...a.groups.map((_, g) => `{ let acc := acc${g} ${a.unpack(g).join(' ')} }`)]
  const { step: pool, half, winAt, loopAt, unrollWindow, outAt } = a.pool
  const mergers = a.groups.map((g, gi) => maxMerger(a.s, pool, g.lanes, half, String(gi), (k) => outAt(gi, k)))
  const first = mergers.map((m, g) => m.first(`acc${g}`)).join(' ')
  const merge = mergers.map((m, g) => m.merge(`acc${g}`)).join(' ')
  const lanes = Math.max(...a.groups.map((g) => g.lanes))
  const window = windowCode(pool, macs, first, merge, winAt, loopAt, unrollWindow)
  return [[mergerConstants(a.s, lanes, half), ...mergers.map((m) => m.decl)].filter(Boolean).join(' '), ...window, ...mergers.flatMap((m) => m.finish)]
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
