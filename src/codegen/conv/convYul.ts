import type { Plan } from '../../fixed/types.ts'
import { activationExpr, vectorActivationYul } from '../dense/activationYul.ts'
import { biasedLaneHalf, unpackBiasedLanes } from './biasedLanes.ts'
import { addrOf, planeBytes, tapOffset, type ConvMemory, type TensorBuffer } from './convMemory.ts'
import { convPacketsOf, groupOffsets, masksDecl, packetWord } from './convPackets.ts'
import { bundlesOf, maxMerger, mergerConstants, sharedBody, windowCode, windowLoopAt } from './convSharedInputs.ts'
import { laneGroupsOf, readsBlobDirectly, tapsOf, type ConvStep, type LaneGroup, type PoolStep } from './convTypes.ts'

const h = (n: number) => '0x' + n.toString(16)

/** Terms folded into the accumulator per statement (right-nested ADDs keep the stack flat). */
const CHAIN = 16
/** Taps of one lane word unrolled inline when its lane groups loop at run time; more taps loop over input channels. */
const TAPS_INLINE = 64
/** Fused max-pool windows of at most this many positions are unrolled (when the conv's taps are). */
export const WINDOW_UNROLL = 4
/** Taps per turn when lane words are built from the blob as they are used (one-position steps). */
const DIRECT_PER_TURN = 8
/** Taps per turn of an input-channel loop. */
const TAPS_PER_TURN = 32

export function macChain(terms: string[], acc = 'acc'): string[] {
  const out: string[] = []
  for (let i = 0; i < terms.length; i += CHAIN) out.push(`${acc} := ${terms.slice(i, i + CHAIN).reduceRight((rest, t) => `add(${t}, ${rest})`, acc)}`)
  return out
}

/** Consecutive lane groups whose lane count is equal and whose first channels and input channels step evenly. */
type Run = { from: number; count: number; lanes: number; firstStep: number; cinStep: number }
export function runsOf(groups: LaneGroup[]): Run[] {
  const runs: Run[] = []
  for (let i = 0; i < groups.length; ) {
    const g = groups[i]!
    let n = 1
    const next = groups[i + 1]
    const firstStep = next ? next.first - g.first : 0
    const cinStep = next ? next.cinFirst - g.cinFirst : 0
    while (i + n < groups.length) {
      const a = groups[i + n - 1]!
      const b = groups[i + n]!
      if (b.lanes !== g.lanes || b.first - a.first !== firstStep || b.cinFirst - a.cinFirst !== cinStep) break
      n++
    }
    runs.push({ from: i, count: n, lanes: g.lanes, firstStep, cinStep })
    i += n
  }
  return runs
}

/**
 * Yul, once per transaction: each conv step's lane words (one per lane group and tap: that tap's weight
 * for every output channel of the group) and lane-group bias words, from the blob into memory. One MLOAD
 * per packet, then each lane word in four operations (convBlob.ts), none per weight.
 */
export function convPackYul(steps: ConvStep[] | readonly unknown[], mem: ConvMemory, weightBytes: number, biasBytes: number, fused: boolean[] = [], skip: boolean[] = []): string {
  const lines: string[] = []
  ;(steps as ConvStep[]).forEach((s, i) => {
    if (s.kind !== 'conv' || readsBlobDirectly(s) || skip[i]) return
    const lb = mem.blobLayout.layers[i]!
    const pk = mem.packed[i]!
    const taps = tapsOf(s)
    const groups = laneGroupsOf(s)
    const offsets = groupOffsets(s, weightBytes)
    lines.push(`// ${s.name}: ${groups.length} lane group(s) × ${taps} taps, lanes of ${s.laneBits} bits`)
    for (const r of runsOf(groups)) {
      const { perWord: P, packetBytes: E, bytes } = convPacketsOf(s, r.lanes, weightBytes)
      const src = mem.blob + lb.weightsAt + offsets[r.from]!
      const dst = pk.weights + r.from * taps * 32
      const full = Math.floor(taps / P)
      const tail = taps - full * P
      const stores = (n: number) => Array.from({ length: n }, (_, j) => `mstore(${j ? `add(d, ${32 * j})` : 'd'}, ${packetWord(s, r.lanes, weightBytes, j)})`).join(' ')
      const loop = full > 0 ? `for { let e := add(p, ${h(full * E)}) } lt(p, e) { p := add(p, ${E}) d := add(d, ${32 * P}) } { let m := mload(p) ${stores(P)} }` : ''
      const rest = tail ? `{ let m := mload(p) ${stores(tail)} }` : ''
      lines.push(`{ ${masksDecl(s, r.lanes, weightBytes)} for { let j := 0 } lt(j, ${r.count}) { j := add(j, 1) } { let p := add(${h(src)}, mul(j, ${h(bytes)})) let d := add(${h(dst)}, mul(j, ${h(taps * 32)})) ${loop} ${rest} } }`)
      // biases may be wider than a lane's share of one word: one MLOAD per lane (once per transaction)
      let bias = `sar(${256 - 8 * biasBytes}, mload(m))`
      for (let k = 1; k < r.lanes; k++) bias = `add(${bias}, shl(${k * s.laneBits}, sar(${256 - 8 * biasBytes}, mload(add(m, ${k * biasBytes})))))`
      // lanes offset to unsigned: +2^(b−1) in every lane (|acc| < 2^(b−1) by interval analysis), so that a fused max
      // pool compares them as unsigned and an unpack is a shift and a mask (unpackBiasedLanes)
      if (r.lanes > 1) {
        let half = 0n
        for (let k = 0; k < r.lanes; k++) half |= biasedLaneHalf(s) << BigInt(k * s.laneBits)
        bias = `add(${bias}, 0x${half.toString(16)})`
      }
      const bsrc = mem.blob + lb.biasesAt + groups[r.from]!.first * biasBytes
      lines.push(`for { let t := 0 } lt(t, ${r.count}) { t := add(t, 1) } { let m := add(${h(bsrc)}, mul(t, ${r.firstStep * biasBytes})) mstore(add(${h(pk.biases + r.from * 32)}, shl(5, t)), ${bias}) }`)
    }
  })
  return lines.join('\n                ')
}

/** Lane k of `acc` (laneBits each, two's complement, lanes carried) to the output, rescaled and activated. */
export function unpackLanes(s: ConvStep, lanes: number, outAt: (k: number) => string): string[] {
  const byteIdx = s.laneBits / 8 - 1
  const act = activationExpr(s.activation, 'v', s.slopeQ)
  const out: string[] = []
  for (let k = 0; k < lanes; k++) {
    if (k < lanes - 1) out.push(`{ let lane := signextend(${byteIdx}, acc) let v := sar(${s.wShift}, lane) mstore(${outAt(k)}, ${act}) acc := sar(${s.laneBits}, sub(acc, lane)) }`)
    else out.push(`{ let v := sar(${s.wShift}, ${lanes > 1 ? `signextend(${byteIdx}, acc)` : 'acc'}) mstore(${outAt(k)}, ${act}) }`)
  }
  return out
}

const at = (base: string, off: number) => (off ? `add(${base}, ${h(off)})` : base)

/**
 * Yul for one conv step (a dense layer is a 1×1 one) of one row: lanes across output channels, so one
 * MUL of an input value by a lane word does `lanes` multiply-accumulates. Lane groups whose taps fit the
 * code budget (`unrolled`) get their own code with constant weight addresses; the others loop over lane
 * groups with a weight pointer. Positions always loop; taps are unrolled (or loop over input channels).
 */
export function convStepYul(s: ConvStep, i: number, plan: Plan, mem: ConvMemory, unrolled: boolean, pool?: PoolStep): string {
  // a multi-output model's dense step reading an earlier tensor, or the concatenation joinTensorsYul built
  const buf = mem.joined[i] ?? mem.tensors[s.reads?.[0] ?? i]!
  // a dense layer after a flatten views its producer's (unpadded) [c][h][w] tensor as [c·h·w][1][1]
  const same = buf.shape.c === s.inShape.c && buf.shape.h === s.inShape.h && buf.shape.w === s.inShape.w
  const inB = same ? buf : { ...buf, shape: s.inShape, hp: s.inShape.h, wp: s.inShape.w }
  // a max pool fused into the conv writes the pooled tensor; the conv's own output never reaches memory
  const outB = mem.tensors[pool ? i + 2 : i + 1]!
  const pk = mem.packed[i]!
  const taps = tapsOf(s)
  const kk = s.kh * s.kw
  const groups = laneGroupsOf(s)
  const inPlane = planeBytes(inB)
  const outPlane = planeBytes(outB)
  // input offset of tap t from the window's top-left value
  const tapOff = (t: number) => tapOffset(s, inB, t)
  const { h: OH, w: OW } = pool ? pool.outShape : s.outShape
  const single = OH === 1 && OW === 1
  // fused pooling: a position is a pool window of ph × pw conv positions
  const ph = pool ? pool.sh : 1
  const pw = pool ? pool.sw : 1
  // the body for one position: p = window top-left address, yo = output address of the group's first channel
  const direct = readsBlobDirectly(s)
  const wb = plan.weightBytes
  const body = (lanes: number, wAt: (t: number) => string, biasAt: string): string[] => {
    if (direct) return [...directMacs(lanes), ...unpackLanes(s, lanes, (k) => at('yo', k * outPlane))]
    const lines = [`let acc := mload(${biasAt})`]
    if (unrolled || taps <= TAPS_INLINE) lines.push(...macChain(Array.from({ length: taps }, (_, t) => `mul(mload(${at('p', tapOff(t))}), mload(${wAt(t)}))`)))
    else {
      const cinPer = s.inShape.c / s.groups
      let U = Math.max(1, Math.floor(TAPS_PER_TURN / kk))
      while (cinPer % U) U--
      const step = macChain(Array.from({ length: U * kk }, (_, t) => `mul(mload(${at('q', tapOff(t))}), mload(${at('v', 32 * t)}))`))
      lines.push(`for { let q := p let v := ${wAt(0)} let ce := add(p, ${h(cinPer * inPlane)}) } lt(q, ce) { q := add(q, ${h(U * inPlane)}) v := add(v, ${h(U * kk * 32)}) } { ${step.join(' ')} }`)
    }
    if (!pool) {
      lines.push(...(lanes > 1 ? unpackBiasedLanes : unpackLanes)(s, lanes, (k) => at('yo', k * outPlane)))
      return lines
    }
    return fusedMaxBody(s, pool, lanes, lines, (j) => 32 * (Math.floor(j / pw) * s.sh * inB.wp + (j % pw) * s.sw), (k) => at('yo', k * outPlane), unrolled && ph * pw <= WINDOW_UNROLL)
  }
  // one position (a dense layer): each lane word is used once, so it is built from the blob's packets as it is multiplied
  const directMacs = (lanes: number): string[] => {
    const { perWord: P, packetBytes: E, packets: Q } = convPacketsOf(s, lanes, wb)
    const sh = 256 - 8 * plan.biasBytes
    let bias = `sar(${sh}, mload(b))`
    for (let k = 1; k < lanes; k++) bias = `add(${bias}, shl(${k * s.laneBits}, sar(${sh}, mload(add(b, ${k * plan.biasBytes})))))`
    // packet q (taps q·P …) at base + off, tap t's input at x(t)
    const packet = (base: string, off: number, t0: number, x: (t: number) => string) => {
      const n = Math.min(P, taps - t0)
      return `{ let m := mload(${at(base, off)}) ${macChain(Array.from({ length: n }, (_, j) => `mul(mload(${x(t0 + j)}), ${packetWord(s, lanes, wb, j)})`)).join(' ')} }`
    }
    const lines = [masksDecl(s, lanes, wb), `let acc := ${bias}`]
    const unrollAll = () => Array.from({ length: Q }, (_, q) => packet('w', q * E, q * P, (t) => at('p', tapOff(t))))
    const cinPer = s.inShape.c / s.groups
    if (taps <= DIRECT_PER_TURN) lines.push(...unrollAll())
    else if (kk === 1) {
      // inputs one plane apart: turns of whole packets, the rest unrolled after the loop
      const per = Math.max(1, Math.floor(DIRECT_PER_TURN / P))
      const turns = Math.floor(Math.floor(taps / P) / per)
      if (turns > 0) {
        const step = Array.from({ length: per }, (_, u) => packet('v', u * E, u * P, (t) => at('q', t * inPlane)))
        lines.push(`for { let q := p let v := w let e := add(p, ${h(turns * per * P * inPlane)}) } lt(q, e) { q := add(q, ${h(per * P * inPlane)}) v := add(v, ${h(per * E)}) } { ${step.join(' ')} }`)
      }
      for (let q = turns * per; q < Q; q++) lines.push(packet('w', q * E, q * P, (t) => at('p', tapOff(t))))
    } else {
      // input channels per turn: U dividing the channels, U·kh·kw a whole number of packets
      const valid = Array.from({ length: cinPer }, (_, k) => k + 1).filter((u) => cinPer % u === 0 && (u * kk) % P === 0)
      const U = valid.find((u) => u * kk >= DIRECT_PER_TURN) ?? valid[valid.length - 1]
      if (U === undefined) lines.push(...unrollAll())
      else {
        const n = (U * kk) / P
        const step = Array.from({ length: n }, (_, u) => packet('v', u * E, u * P, (t) => at('q', tapOff(t))))
        lines.push(`for { let q := p let v := w let ce := add(p, ${h(cinPer * inPlane)}) } lt(q, ce) { q := add(q, ${h(U * inPlane)}) v := add(v, ${h(n * E)}) } { ${step.join(' ')} }`)
      }
    }
    return lines
  }
  const positions = (p0: string, o0: string, inner: string[]) =>
    single
      ? `{ let ${pool ? 'pp' : 'p'} := ${p0} let yo := ${o0}\n                    ${inner.join('\n                    ')} }`
      : `for { let oy := 0 } lt(oy, ${OH}) { oy := add(oy, 1) } {
                    let ${pool ? 'pp' : 'p'} := add(${p0}, mul(oy, ${h(32 * ph * s.sh * inB.wp)}))
                    let yo := add(${o0}, mul(oy, ${h(32 * outB.wp)}))
                    for { let e := add(${pool ? 'pp' : 'p'}, ${h(32 * pw * s.sw * OW)}) } lt(${pool ? 'pp' : 'p'}, e) { ${pool ? 'pp' : 'p'} := add(${pool ? 'pp' : 'p'}, ${h(32 * pw * s.sw)}) yo := add(yo, 32) } {
                    ${inner.join('\n                    ')}
                    }
                }`
  const windowAt = (cin: number) => inB.at + cin * inPlane // padded (0, 0): the halo is exactly the conv's padding
  // a fused average pool (avgFusion.ts): each window's sums in these words; only with per-group code (the bundles)
  const sums = pool?.kind === 'avgpool' ? pk.sums : undefined
  if (pool?.kind === 'avgpool' && (sums === undefined || !unrolled)) throw new Error(`unreachable: conv '${s.name}' has an average pool fused in without its sums or its own code`)
  const lines = [`// ${s.name}: conv ${s.inShape.c}×${s.inShape.h}×${s.inShape.w} → ${s.outShape.c}×${OH}×${OW}, ${groups.length} lane group(s), ${taps} taps${sums ? `, its ${pool!.kh}×${pool!.kw} average pool fused in` : ''}`]
  if (unrolled)
    for (const bundle of bundlesOf(groups, sums ? undefined : pool)) {
      const g0 = groups[bundle[0]!]!
      // one lane group: shared loads only pay off between a fused window row's positions (an average pool's sums: sharedBody)
      if (bundle.length === 1 && !(pool && ph * pw <= WINDOW_UNROLL && pw > 1) && !sums) {
        lines.push(positions(h(windowAt(g0.cinFirst)), h(addrOf(outB, g0.first, 0, 0)), body(g0.lanes, (t) => h(pk.weights + (bundle[0]! * taps + t) * 32), h(pk.biases + 32 * bundle[0]!))))
        continue
      }
      // one pass over the taps for the bundle's lane groups: each input loaded once (convSharedInputs.ts)
      const outAt = (b: number, k: number) => at('yo', (groups[bundle[b]!]!.first - g0.first + k) * outPlane)
      const winOff = (j: number) => 32 * (Math.floor(j / pw) * s.sh * inB.wp + (j % pw) * s.sw)
      // an average pool's window loops (its merge code is per lane, too long to repeat per position)
      const fusedPool = pool && { step: pool, half: biasedLaneHalf(s), ...(sums ? { sums: sums + 32 * g0.first } : {}), winOff, winAt: (j: number) => at('pp', winOff(j)), loopAt: windowLoopAt(pool, winOff), unrollWindow: !sums && ph * pw <= WINDOW_UNROLL, outAt }
      const inner = sharedBody({
        s,
        groups: bundle.map((gi) => groups[gi]!),
        taps,
        tapOff,
        wAt: (b, t) => h(pk.weights + (bundle[b]! * taps + t) * 32),
        biasAt: (b) => h(pk.biases + 32 * bundle[b]!),
        unpack: (b) => (groups[bundle[b]!]!.lanes > 1 ? unpackBiasedLanes : unpackLanes)(s, groups[bundle[b]!]!.lanes, (k) => outAt(b, k)),
        ...(fusedPool ? { pool: fusedPool } : {}),
      })
      lines.push(positions(h(windowAt(g0.cinFirst)), h(addrOf(outB, g0.first, 0, 0)), inner))
    }
  else
    for (const r of runsOf(groups)) {
      const g0 = groups[r.from]!
      const inner = body(r.lanes, (t) => at('w', 32 * t), 'b')
      // direct: w and b point into the blob (group-major weights, then the biases in channel order)
      const lb = mem.blobLayout.layers[i]!
      const blobW = mem.blob + lb.weightsAt + groupOffsets(s, wb)[r.from]!
      lines.push(`for { let j := 0 } lt(j, ${r.count}) { j := add(j, 1) } {
                    let w := ${direct ? `add(${h(blobW)}, mul(j, ${h(convPacketsOf(s, r.lanes, wb).bytes)}))` : `add(${h(pk.weights + r.from * taps * 32)}, mul(j, ${h(taps * 32)}))`}
                    let b := ${direct ? `add(${h(mem.blob + lb.biasesAt + g0.first * plan.biasBytes)}, mul(j, ${r.firstStep * plan.biasBytes}))` : `add(${h(pk.biases + r.from * 32)}, shl(5, j))`}
                    let p0 := add(${h(windowAt(g0.cinFirst))}, mul(j, ${h(r.cinStep * inPlane)}))
                    let yo0 := add(${h(addrOf(outB, g0.first, 0, 0))}, mul(j, ${h(r.firstStep * outPlane)}))
                    ${positions('p0', 'yo0', inner)}
                }`)
    }
  const vec = vectorActivationYul(s.activation, h(addrOf(outB, 0, 0, 0)), s.outShape.c, plan)
  if (vec) lines.push(vec)
  return lines.join('\n                ')
}

/** Features decoded per turn of an input-decoding loop (each ~30 gas, against ~90 for one per turn). */
const DECODE_BY = 8

/**
 * Yul decoding \`count\` features from calldata \`src\` into words from memory \`dst\` (both Yul variables the
 * code may advance): DECODE_BY per turn with constant offsets, the rest after the loop.
 */
function decodeRun(src: string, dst: string, count: number, inputBytes: number, op: string, sh: number): string {
  const one = (k: number) => `mstore(${k ? `add(${dst}, ${32 * k})` : dst}, ${op}(${sh}, calldataload(${k ? `add(${src}, ${k * inputBytes})` : src})))`
  const turns = Math.floor(count / DECODE_BY)
  const loop = turns > 1 ? `for { let e := add(${dst}, ${h(32 * DECODE_BY * turns)}) } lt(${dst}, e) { ${src} := add(${src}, ${DECODE_BY * inputBytes}) ${dst} := add(${dst}, ${32 * DECODE_BY}) } { ${Array.from({ length: DECODE_BY }, (_, k) => one(k)).join(' ')} }` : ''
  const from = turns > 1 ? DECODE_BY * turns : 0
  return [loop, ...Array.from({ length: count - from }, (_, k) => one(k))].filter(Boolean).join(' ')
}

/** Yul decoding one row (C-order int features at calldata `rp`) into the input tensor's interior. */
export function decodeInputYul(buf: TensorBuffer, inputBytes: number, unsigned = false): string {
  const { c, h: H, w: W } = buf.shape
  const sh = 256 - 8 * inputBytes
  const op = unsigned ? 'shr' : 'sar'
  const n = c * H * W
  const p = buf.pad
  if (p.top + p.bottom + p.left + p.right === 0) return `{ let src := rp let dst := ${h(buf.at)} ${decodeRun('src', 'dst', n, inputBytes, op, sh)} }`
  return `for { let r := 0 } lt(r, ${c * H}) { r := add(r, 1) } {
                    let src := add(rp, mul(r, ${W * inputBytes}))
                    let dst := add(${h(addrOf(buf, 0, 0, 0))}, mul(add(r, mul(div(r, ${H}), ${p.top + p.bottom})), ${h(32 * buf.wp)}))
                    ${decodeRun('src', 'dst', W, inputBytes, op, sh)}
                }`
}

/** Activations that commute with max (non-decreasing): max pooling may then run on the accumulators. */
export function commutesWithMax(s: ConvStep): boolean {
  const a = s.activation
  return a.kind === 'identity' || a.kind === 'relu' || (a.kind === 'leaky_relu' && s.slopeQ >= 0n)
}

/** Whether step i (a conv) absorbs the max pool after it: non-overlapping windows, no padding, no dilation. */
export function fusesPool(steps: readonly { kind: string }[], i: number): boolean {
  const s = steps[i] as ConvStep
  const p = steps[i + 1] as PoolStep | undefined
  if (s.kind !== 'conv' || !p || p.kind !== 'maxpool' || p.spans) return false
  const noPad = p.pad.top + p.pad.bottom + p.pad.left + p.pad.right === 0
  return noPad && p.dh === 1 && p.dw === 1 && p.kh === p.sh && p.kw === p.sw && commutesWithMax(s) && (s.outShape.h > 1 || s.outShape.w > 1)
}

/**
 * Lanes biased to unsigned (the bias word carries +2^(b−1) per lane), the max over the window is taken
 * on the packed words: even and odd lanes apart so each has a free lane above it for the guard bit of a
 * SWAR compare (a − b + 2^b keeps bit b iff a ≥ b). Then max commutes with the SAR and the activation
 * (non-decreasing), so one unpack per pooled value. One lane: a plain signed max.
 */
function fusedMaxBody(s: ConvStep, pool: PoolStep, lanes: number, macs: string[], winOff: (j: number) => number, outAt: (k: number) => string, unrollWindow: boolean): string[] {
  const half = biasedLaneHalf(s)
  const m = maxMerger(s, pool, lanes, half, '', outAt)
  const window = windowCode(pool, macs, m.first('acc'), m.merge('acc'), (j) => at('pp', winOff(j)), windowLoopAt(pool, winOff), unrollWindow)
  return [[mergerConstants(s, lanes, half), m.decl].filter(Boolean).join(' '), ...window, ...m.finish]
}

export { biasedLaneHalf }
