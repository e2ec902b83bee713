import type { Plan } from '../../fixed/types.ts'
import { activationExpr, vectorActivationYul } from '../dense/activationYul.ts'
import { addrOf, planeBytes, tapOffset, type ConvMemory } from './convMemory.ts'
import { convPacketsOf, groupOffsets } from './convPackets.ts'
import { bundlesOf, sharedBody, windowLoopAt } from './convSharedInputs.ts'
import { laneGroupsOf, tapsOf, type ConvStep, type PoolStep } from './convTypes.ts'
import { channelGroups, ROW_BUNDLE, rowGeometry, type RowLanes } from './rowLanesPlan.ts'
import { unbiasedField } from './biasedLanes.ts'

const h = (n: number) => '0x' + n.toString(16)
const at = (base: string, off: number) => (off ? `add(${base}, ${h(off)})` : base)

/**
 * Yul, once per transaction: each output channel's weights as signed scalars (read from the blob's lane-group
 * packets, which stay the commitment's encoding) and its bias word: the bias in every lane (plus a fused max
 * pool's unsigned offset, convYul.ts biasedLaneHalf).
 */
export function rowLanesPackYul(s: ConvStep, i: number, mem: ConvMemory, rl: RowLanes, weightBytes: number, biasBytes: number, half?: bigint): string {
  const lb = mem.blobLayout.layers[i]!
  const pk = mem.packed[i]!
  const taps = tapsOf(s)
  const groups = laneGroupsOf(s)
  const offsets = groupOffsets(s, weightBytes)
  const sh = 256 - 8 * weightBytes
  const wHalf = h(2 ** (8 * weightBytes - 1))
  const lines = [`// ${s.name}: row lanes (${rl.lanes} output positions per word), ${s.outShape.c} channels × ${taps} scalar weights`]
  groups.forEach((g, gi) => {
    const { perWord: P, packetBytes: E } = convPacketsOf(s, g.lanes, weightBytes)
    for (let k = 0; k < g.lanes; k++) {
      const c = g.first + k
      // field (lane k, word j) of a packet: big-endian at byte (lanes − k)·laneBits/8 − wb·(j + 1) (convBlob.ts)
      const field0 = mem.blob + lb.weightsAt + offsets[gi]! + ((g.lanes - k) * s.laneBits) / 8 - weightBytes
      const dst = pk.weights + c * taps * 32
      const one = (a: string, d: string, j: number, n = 1) => (j < n ? `mstore(${at(d, 32 * j)}, sub(shr(${sh}, mload(${j ? `sub(${a}, ${weightBytes * j})` : a})), ${wHalf}))` : '')
      const full = Math.floor(taps / P)
      const words = (a: string, d: string, n: number) => Array.from({ length: n }, (_, j) => one(a, d, j, n)).join(' ')
      if (full > 0) lines.push(`for { let a := ${h(field0)} let d := ${h(dst)} let e := ${h(field0 + full * E)} } lt(a, e) { a := add(a, ${E}) d := add(d, ${32 * P}) } { ${words('a', 'd', P)} }`)
      const tail = taps - full * P
      if (tail) lines.push(`{ let a := ${h(field0 + full * E)} let d := ${h(dst + full * P * 32)} ${words('a', 'd', tail)} }`)
    }
  })
  let rep = 0n
  for (let k = 0; k < rl.lanes; k++) rep |= 1n << BigInt(k * rl.bits)
  const bsrc = mem.blob + lb.biasesAt
  const bias = (c: string) => `sar(${256 - 8 * biasBytes}, mload(add(${h(bsrc)}, mul(${c}, ${biasBytes}))))`
  if (rl.offsets)
    // each channel's own offset to unsigned lanes
    rl.offsets.forEach((o, c) => lines.push(`mstore(${h(pk.biases + 32 * c)}, mul(add(${bias(String(c))}, 0x${o.toString(16)}), 0x${rep.toString(16)}))`))
  else {
    const halfWord = half === undefined ? '' : `, 0x${(half * rep).toString(16)}`
    lines.push(`for { let c := 0 } lt(c, ${s.outShape.c}) { c := add(c, 1) } { let b := mul(${bias('c')}, 0x${rep.toString(16)}) mstore(add(${h(pk.biases)}, shl(5, c)), ${halfWord ? `add(b${halfWord})` : 'b'}) }`)
  }
  return lines.join('\n                ')
}

/**
 * Yul, once per row before the step: the input tensor (no halo) becomes its packed words in place,
 * P[x] = X[x] + (P[x + sigma] << laneBits) from each row's end (one chain per residue of x mod sigma), so
 * that lane k of P[x] is X[x + k·sigma]. Lanes beyond a row's end or above the used ones hold other values
 * of memory: they only ever reach lanes above the used ones (a MUL carries upward), which nothing reads.
 */
export function rowLanesPrepYul(s: ConvStep, i: number, mem: ConvMemory, rl: RowLanes): string {
  const buf = mem.tensors[i]!
  const W = buf.wp
  const rows = buf.shape.c * buf.hp
  const chains = Array.from({ length: Math.min(rl.sigma, W) }, (_, r) => `let e${r} := 0`).join(' ')
  const steps: string[] = []
  for (let x = W - 1; x >= 0; x--) {
    const e = `e${x % rl.sigma}`
    steps.push(`${e} := add(mload(${at('r', 32 * x)}), shl(${rl.bits}, ${e})) mstore(${at('r', 32 * x)}, ${e})`)
  }
  return `// ${s.name}: its input as packed row words (lane k = the value ${rl.sigma} × k columns on)
                for { let r := ${h(buf.at)} let re := ${h(buf.at + 32 * W * rows)} } lt(r, re) { r := add(r, ${h(32 * W)}) } { ${chains} ${steps.join(' ')} }`
}

/**
 * Yul, per row, when the row-lane step is the first (its input is the calldata row at `rp`): the decode and
 * rowLanesPrepYul in one pass, each row of features read from its end straight into its packed words.
 */
export function rowLanesDecodeYul(s: ConvStep, mem: ConvMemory, rl: RowLanes, inputBytes: number, unsigned: boolean): string {
  const buf = mem.tensors[0]!
  const W = buf.wp
  const rows = buf.shape.c * buf.hp
  const op = `${unsigned ? 'shr' : 'sar'}(${256 - 8 * inputBytes}, `
  const chains = Array.from({ length: Math.min(rl.sigma, W) }, (_, r) => `let e${r} := 0`).join(' ')
  const steps: string[] = []
  for (let x = W - 1; x >= 0; x--) {
    const e = `e${x % rl.sigma}`
    steps.push(`${e} := add(${op}calldataload(${at('src', x * inputBytes)})), shl(${rl.bits}, ${e})) mstore(${at('r', 32 * x)}, ${e})`)
  }
  return `// ${s.name}: the row's features as packed row words (lane k = the value ${rl.sigma} × k columns on)
                for { let r := ${h(buf.at)} let src := rp let re := ${h(buf.at + 32 * W * rows)} } lt(r, re) { r := add(r, ${h(32 * W)}) src := add(src, ${W * inputBytes}) } { ${chains} ${steps.join(' ')} }`
}

/**
 * Yul for one row-lane conv step of one row: per output row and word of `lanes` positions, each bundle of
 * output channels shares one pass over the packed inputs (convSharedInputs.ts sharedBody: the channels are
 * its lane groups, their scalar weights its lane words); a fused max pool merges the window's positions
 * on the packed words and unpacks once per pooled value.
 */
export function rowLanesStepYul(s: ConvStep, i: number, plan: Plan, mem: ConvMemory, rl: RowLanes, pool: PoolStep | undefined, half: bigint, unpack: (lanes: number, outAt: (k: number) => string) => string[]): string {
  const inB = mem.tensors[i]!
  const outB = mem.tensors[pool ? i + 2 : i + 1]!
  const pk = mem.packed[i]!
  const taps = tapsOf(s)
  const outPlane = planeBytes(outB)
  // input offset of tap t from the window's top-left value
  const tapOff = (t: number) => tapOffset(s, inB, t)
  const { ow, oh } = rowGeometry(s, pool)
  const ph = pool ? pool.sh : 1
  const pw = pool ? pool.sw : 1
  const L = rl.lanes
  const groups = channelGroups(s, L)
  const winOff = (j: number) => 32 * (Math.floor(j / pw) * s.sh * inB.wp + (j % pw) * s.sw)
  const v = pool ? 'pp' : 'p'
  const lines = [`// ${s.name}: conv ${s.inShape.c}×${s.inShape.h}×${s.inShape.w} → ${s.outShape.c}×${oh}×${ow}, row lanes: ${L} positions per word, ${taps} taps`]
  // four channels share a pass (a fused pool's one-compare merger keeps one running maximum each; the
  // even/odd one keeps two, and its window loop's variables leave room for two channels)
  const one = rl.oneCompare !== false
  // the lanes' own width (narrower than the step's when offsets make them unsigned)
  const sl: ConvStep = { ...s, laneBits: rl.bits }
  for (const bundle of bundlesOf(groups, pool, ROW_BUNDLE)) {
    const c0 = groups[bundle[0]!]!.first
    const outAt = (b: number, k: number) => at('yo', (groups[bundle[b]!]!.first - c0) * outPlane + 32 * k)
    const offs = rl.offsets && bundle.map((gi) => rl.offsets![groups[gi]!.first]!)
    const inner = sharedBody({
      s: sl,
      groups: bundle.map((gi) => groups[gi]!),
      taps,
      tapOff,
      wAt: (b, t) => h(pk.weights + (groups[bundle[b]!]!.first * taps + t) * 32),
      biasAt: (b) => h(pk.biases + 32 * groups[bundle[b]!]!.first),
      unpack: (b) => (offs ? unsignedLanes(sl, L, offs[b]!, (k) => outAt(b, k)) : unpack(L, (k) => outAt(b, k))),
      ...(pool ? { pool: { step: pool, half, ...(offs ? { halves: offs } : {}), oneCompare: one, ...(one ? {} : { scratch: pk.biases + 32 * s.outShape.c }), winOff, winAt: (j: number) => at('pp', winOff(j)), loopAt: windowLoopAt(pool, winOff), unrollWindow: false, outAt } } : {}),
    })
    lines.push(`for { let oy := 0 } lt(oy, ${oh}) { oy := add(oy, 1) } {
                    let ${v} := add(${h(inB.at)}, mul(oy, ${h(32 * ph * s.sh * inB.wp)}))
                    let yo := add(${h(addrOf(outB, c0, 0, 0))}, mul(oy, ${h(32 * outB.wp)}))
                    for { let e := add(${v}, ${h(32 * rl.sigma * ow)}) } lt(${v}, e) { ${v} := add(${v}, ${h(32 * rl.sigma * L)}) yo := add(yo, ${h(32 * L)}) } {
                    ${inner.join('\n                    ')}
                    }
                }`)
  }
  const vec = vectorActivationYul(s.activation, h(addrOf(outB, 0, 0, 0)), s.outShape.c, plan)
  if (vec) lines.push(vec)
  return lines.join('\n                ')
}

/** Lanes offset to unsigned (`off` in each): lane k is its field less the offset, rescaled and activated. */
function unsignedLanes(s: ConvStep, lanes: number, off: bigint, outAt: (k: number) => string): string[] {
  const act = activationExpr(s.activation, 'v', s.slopeQ)
  return Array.from({ length: lanes }, (_, k) => `{ let v := ${unbiasedField('acc', k, s.laneBits, s.wShift, off)} mstore(${outAt(k)}, ${act}) }`)
}
