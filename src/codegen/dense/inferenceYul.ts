import { layerWeightBytes, type LayerPlan, type Plan } from '../../fixed/types.ts'
import { biasedAccInit, biasWordExpr, directPacketMacs, hex as h, laneBias, laneWordOf, macChain, maskAndBiasDecl, nibbleAccFits, sumWords, unpackLanes } from './laneKernel.ts'
import { vectorActivationYul } from './activationYul.ts'
import { joinYul } from './joinYul.ts'
import { gatherAddYul, gatherCodeAddYul, gatherCodeDecodeYul, gatherDecodeYul, multipliedInputs } from './categoricalYul.ts'
import { decodesInputs, packedGroupWords, UNROLL_LIMIT, type MemoryMap } from './memoryMap.ts'
import { laneMask, MAX_CHUNK, packetAt, type GroupLayout } from '../weights/weightBlob.ts'
import { compactHex } from '../../ir/ops/types.ts'

export { macChain } from './laneKernel.ts'

/** How a calldata feature is widened to a word: sign-extended (SAR), or zero-extended (SHR) for unsigned inputs. */
export const inputDecodeOp = (plan: Plan) => (plan.inputUnsigned ? 'shr' : 'sar')

const UNROLL_BY = 8
/**
 * Packets per turn of the once-per-transaction lane-word pass (packWeightsYul): a turn's jump and pointer
 * updates cost ~60 gas and each packet's code ~30 bytes (6,000 gas of deploy), so 3 or 2 when that
 * divides the packets (no tail after the loop), else one per turn.
 */
const packBy = (packets: number) => [3, 2].find((u) => packets % u === 0 && packets > u) ?? 1
/** Packets per turn of the fused kernel's loop, for layers too wide to unroll. */
const FUSED_BY = 8
/** Inputs the fused kernel unrolls in all (about 14 bytes of code each); wider layers loop. */
const FUSED_UNROLL_INPUTS = 1100
/** Rows of at most this many features are decoded from calldata without a loop. */
const UNROLL_DECODE = 64
/** Fused rows of 1- or 2-byte inputs at least this wide are decoded one CALLDATALOAD per 32 bytes (decodeWordsWithSum): ~35 gas an input, not ~43. */
const WORD_DECODE_MIN = 32

/** \`base\` + n in Yul (n may be negative: a trimmed last packet is MLOADed before it starts). */
const plus = (base: string, n: number) => (n > 0 ? `add(${base}, ${n})` : n < 0 ? `sub(${base}, ${-n})` : base)

/** The full groups of a layer (all alike, `stride` bytes apart) and the short last one, if any. */
function shapes(groups: GroupLayout[]): { g0: GroupLayout; count: number; index: number }[] {
  const full = groups.filter((g) => g.lanes === groups[0]!.lanes).length
  const out = [{ g0: groups[0]!, count: full, index: 0 }]
  if (full < groups.length) out.push({ g0: groups[full]!, count: 1, index: full })
  return out
}

/** `body` (which reads `g`) for groups index … index+count−1: a loop, or a block when there is one. */
const forGroups = (index: number, count: number, prelude: string, body: string[]) =>
  count === 1
    ? `{ ${prelude}\n                    ${body.join('\n                    ')} }`
    : `{ ${prelude}\n                for { let g := ${index} } lt(g, ${index + count}) { g := add(g, 1) } {\n                    ${body.join('\n                    ')}\n                } }`

/**
 * Yul, run once per transaction (`packed` kernel): the blob's packets become signed lane words in memory,
 * each `and(shr(s, m), mask) − 2^(8·wb−1)·lanes`: four operations per lane word, none per weight.
 */
export function packWeightsYul(plan: Plan, mem: MemoryMap): string {
  const lines: string[] = []
  plan.layers.forEach((layer, l) => {
    const wb = layerWeightBytes(plan, l)
    const lm = mem.layers[l]!
    // a module applied again reads the lane words its first use packed (memoryMap points it there)
    if (layer.shares !== undefined) return void lines.push(`// layer ${l} '${layer.name}': the lane words of layer ${layer.shares}`)
    // a gathered embedding column's lane words are read from the blob by the row that needs one: never packed
    const nIn = multipliedInputs(plan, l)
    lines.push(`// layer ${l} '${layer.name}': ${layer.nIn}→${layer.nOut}, ${layer.lanes} lanes${nIn < layer.nIn ? `, lane words of the ${nIn} numeric inputs` : ''}`)
    for (const { g0, count, index } of shapes(mem.blobLayout.layers[l]!.groups)) {
      const packets = Math.ceil(nIn / g0.perWord)
      const words = packedGroupWords(g0, nIn) * 32
      const stores = (n: number, k = 0) => Array.from({ length: n }, (_, j) => `mstore(${k * g0.perWord + j ? `add(d, ${32 * (k * g0.perWord + j)})` : 'd'}, sub(${laneWordOf(g0, j, wb)}, bw))`).join(' ')
      // packet k of a turn (or of the tail after the loop), at p + k·packetBytes
      const packet = (k: number) => `m := mload(${k ? `add(p, ${k * g0.packetBytes})` : 'p'}) ${stores(g0.perWord, k)}`
      const by = packBy(packets)
      const turns = Math.floor(packets / by)
      const tail = packets - turns * by
      // every packet in a loop (the last one's spare words are never read), or the lone (trimmed) packet
      const at = (base: number, stride: number) => (count === 1 ? h(base) : `add(${h(base)}, mul(sub(g, ${index}), ${stride}))`)
      const dst = at(lm.packedWeights[index]!, words)
      lines.push(
        forGroups(index, count, maskAndBiasDecl(g0, wb), [
          `let src := ${at(mem.blob + g0.at, g0.bytes)}`,
          // the lane bias of a biased split (laneBias) is added here, once per transaction: 2^(spacing−1) in
          // every lane is \`bw\` (2^(8·wb−1) in every lane) shifted up, three bytes of code where a PUSH takes up to 33
          `mstore(${at(lm.packedBiases + 32 * index, 32)}, ${laneBias(g0.lanes, g0.spacing, layer.wShift) ? `add(${biasWordExpr(g0, plan.biasBytes, 'src')}, ${g0.spacing - 8 * wb ? `shl(${g0.spacing - 8 * wb}, bw)` : 'bw'})` : biasWordExpr(g0, plan.biasBytes, 'src')})`,
          `let d := ${dst}`,
          packets === 0
            ? ''
            : g0.packets > 1
            ? // packBy packets per turn (a turn's jump and pointer updates cost ~60 gas), the rest after the loop
              [
                `let p := add(src, ${g0.biasBytes}) let m := 0`,
                turns > 0 ? `for { let e := add(d, ${turns * by * g0.perWord * 32}) } lt(d, e) { p := add(p, ${by * g0.packetBytes}) d := add(d, ${by * 32 * g0.perWord}) } { ${Array.from({ length: by }, (_, k) => packet(k)).join(' ')} }` : '',
                ...Array.from({ length: tail }, (_, k) => packet(k)),
              ].filter(Boolean).join(' ')
            : `{ let m := mload(${plus('src', packetAt(g0, 0))}) ${stores(nIn)} }`,
        ].filter(Boolean)),
      )
    }
  })
  return lines.join('\n                ')
}

/** The signed lane word of input column `col` (or the biases) for a group, as a number (`code` layout). */
export function laneWordValue(v: bigint[], g: Pick<GroupLayout, 'first' | 'lanes' | 'spacing'>): bigint {
  let w = 0n
  for (let k = 0; k < g.lanes; k++) w += v[g.first + k]! << BigInt(g.spacing * k)
  return w
}

/** A product term: a Yul expression (`mload(…)`), or a constant lane word, signed. */
type Term = { w: string | bigint; x: string }

/**
 * MAC statements into `acc`. A negative constant lane word is a PUSH32 of its two's complement (0xff… up
 * top); its magnitude is as short as the lanes (PUSH21 for 4 × 48-bit lanes): those terms are summed apart
 * and SUBtracted, the same gas and the same sum mod 2^256 (so the same lanes), 11 bytes of code less each.
 */
export function signedMacs(terms: Term[]): string[] {
  const neg = terms.filter((t) => typeof t.w === 'bigint' && t.w < 0n)
  const pos = terms.filter((t) => !neg.includes(t))
  const mulOf = (t: Term) => `mul(${typeof t.w === 'bigint' ? h(t.w < 0n ? -t.w : t.w) : t.w}, ${t.x})`
  const out = macChain(pos.map(mulOf))
  for (let i = 0; i < neg.length; i += 16) out.push(`acc := sub(acc, ${neg.slice(i, i + 16).map(mulOf).reduceRight((rest, t) => (rest ? `add(${t}, ${rest})` : t), '')})`)
  return out
}

/**
 * Yul for one row with ready lane words (`packed` kernel: in memory; `code` layout: PUSH32 constants):
 * reads the row at calldata offset `rp`, leaves the outputs at the last layer's activation buffer. Each
 * lane group accumulates with one MUL per input, then the lanes are split and activated.
 */
export function rowYul(plan: Plan, mem: MemoryMap, constants = false): string {
  const lines: string[] = []
  const inB = plan.inputBytes
  const inSh = 256 - 8 * inB
  const decodeToMemory = decodesInputs(plan)
  // nn.Embedding columns: each checked, its weight column gathered from the blob (the code layout: from the
  // constants in its code, by a binary search)
  const groups0 = mem.blobLayout.layers[0]!.groups
  if (plan.categorical?.length) lines.push(constants ? gatherCodeDecodeYul(plan, groups0, mem.inputs, mem.gather, inputDecodeOp(plan)) : gatherDecodeYul(plan, groups0, mem.inputs, mem.gather, inputDecodeOp(plan), false))
  else if (decodeToMemory && plan.inputSize <= UNROLL_DECODE)
    for (let i = 0; i < plan.inputSize; i++) lines.push(`mstore(${h(mem.inputs + 32 * i)}, ${inputDecodeOp(plan)}(${inSh}, calldataload(add(rp, ${h(i * inB)}))))`)
  else if (decodeToMemory)
    lines.push(`for { let i := 0 } lt(i, ${plan.inputSize}) { i := add(i, 1) } { mstore(add(${h(mem.inputs)}, shl(5, i)), ${inputDecodeOp(plan)}(${inSh}, calldataload(add(rp, mul(i, ${inB}))))) }`)
  plan.layers.forEach((layer, l) => {
    const lm = mem.layers[l]!
    // a graph model's layer reading a skip, a residual sum or a concat: built first at lm.joined
    if (lm.joined !== undefined) lines.push(joinYul(plan, mem, l))
    const src = l === 0 ? (decodeToMemory ? mem.inputs : -1) : (lm.joined ?? mem.layers[l - 1]!.activations)
    const x = (i: number) => (src < 0 ? `${inputDecodeOp(plan)}(${inSh}, calldataload(add(rp, ${h(i * inB)})))` : `mload(${h(src + 32 * i)})`)
    // the code layout's lane words are constants, not blob packets: its lanes need be only as wide as the
    // interval analysis proves (|acc| ≤ accMax: bitLength + 1 bits), not a whole number of weight fields, so
    // the lane words are shorter PUSHes (gathered embedding columns read blob-spaced words: those keep it)
    const tight = constants && !plan.categorical?.length && layer.lanes > 1
    const groups = mem.blobLayout.layers[l]!.groups.map((g) => (tight ? { ...g, spacing: layer.accMax.toString(2).length + 1 } : g))
    const nIn = multipliedInputs(plan, l)
    const gathers = nIn < layer.nIn
    const unroll = constants || nIn * groups.length <= UNROLL_LIMIT || src < 0
    lines.push(`// layer ${l} '${layer.name}'`)
    groups.forEach((g, gi) => {
      const pw = constants ? 0 : lm.packedWeights[gi]!
      const wordAt = (i: number): string | bigint => (constants ? laneWordValue(layer.weights.map((r) => r[i]!), g) : `mload(${h(pw + 32 * i)})`)
      // the code layout's bias constant carries the lane bias of a biased split (laneBias); the packed kernel's bias word has it already
      // (once per group and row: the form with the fewest code bytes)
      const biasWord = compactHex(laneWordValue(layer.biases, g) + laneBias(g.lanes, g.spacing, layer.wShift))
      const body: string[] = [`let acc := ${constants ? biasWord : `mload(${h(lm.packedBiases + 32 * gi)})`}`]
      if (constants && !unroll) throw new Error('the code layout needs fully unrolled layers')
      if (src < 0) body.push(...calldataMacs(plan, layer.nIn, wordAt))
      else if (unroll) body.push(...signedMacs(Array.from({ length: nIn }, (_, i) => ({ w: wordAt(i), x: x(i) }))))
      else {
        const turns = Math.floor(nIn / UNROLL_BY)
        const step = macChain(Array.from({ length: UNROLL_BY }, (_, u) => `mul(mload(add(w, ${32 * u})), mload(add(q, ${32 * u})))`))
        body.push(`for { let w := ${h(pw)} let q := ${h(src)} let e := ${h(pw + turns * UNROLL_BY * 32)} } lt(w, e) { w := add(w, ${32 * UNROLL_BY}) q := add(q, ${32 * UNROLL_BY}) } { ${step.join(' ')} }`)
        body.push(...macChain(Array.from({ length: nIn - turns * UNROLL_BY }, (_, k) => `mul(mload(${h(pw + 32 * (turns * UNROLL_BY + k))}), ${x(turns * UNROLL_BY + k)})`)))
      }
      if (gathers) body.push(...(constants ? gatherCodeAddYul(plan, groups, gi, mem.gather) : gatherAddYul(plan, groups, g, mem.gather, h(mem.blob + g.at))))
      body.push(...unpackLanes(plan, layer, g.lanes, g.spacing, (k) => h(lm.activations + 32 * (g.first + k)), constants))
      lines.push(`{ ${body.join('\n                    ')} }`)
    })
    const vec = vectorActivationYul(layer.activation, h(lm.activations), layer.nOut, plan)
    if (vec) lines.push(vec)
  })
  return lines.join('\n                ')
}

/**
 * MACs of a one-group first layer reading its inputs straight from the row at \`rp\`: one CALLDATALOAD
 * per word of inputs (into \`c\`), each input then shifted out of it (masked, or sign-extended).
 *
 * Constant lane words (\`code\` layout) and unsigned inputs need no mask: with d_j = shr(s_j, c), the word's
 * top fields down to input j, input j is d_j − 2^b·d_(j−1) (b bits per input), so Σ W_j·x_j is
 * Σ V_j·d_j with V_j = W_j − 2^b·W_(j+1) (W past the word's last input is 0): the same integer sum (the
 * lanes come out the same), two operations less per input. Bytes after the row (padding, the next row)
 * are shifted out of every d_j.
 */
function calldataMacs(plan: Plan, nIn: number, wordAt: (i: number) => string | bigint): string[] {
  const inB = plan.inputBytes
  const per = Math.floor(32 / inB)
  const mask = h((1n << BigInt(8 * inB)) - 1n)
  const telescoped = per > 1 && plan.inputUnsigned && typeof wordAt(0) === 'bigint'
  const out: string[] = per > 1 && plan.inputUnsigned && !telescoped ? [`let xm := ${mask}`] : []
  for (let i0 = 0; i0 < nIn; i0 += per) {
    const count = Math.min(per, nIn - i0)
    const x = (j: number) => {
      const sh = 256 - 8 * inB * (j + 1)
      const word = sh ? `shr(${sh}, c)` : 'c'
      if (j === 0) return `${inputDecodeOp(plan)}(${sh}, c)`
      if (telescoped) return word
      return plan.inputUnsigned ? `and(${word}, xm)` : `signextend(${inB - 1}, ${word})`
    }
    const w = (j: number) => {
      const v = wordAt(i0 + j)
      return telescoped && j + 1 < count ? (v as bigint) - ((wordAt(i0 + j + 1) as bigint) << BigInt(8 * inB)) : v
    }
    const terms = Array.from({ length: count }, (_, j) => ({ w: w(j), x: x(j) }))
    out.push(`{ let c := calldataload(${i0 ? `add(rp, ${h(i0 * inB)})` : 'rp'}) ${signedMacs(terms).join(' ')} }`)
  }
  return out
}

/**
 * Yul for wide rows of 1- or 2-byte inputs: ONE CALLDATALOAD per 32 bytes of the row; each input comes out
 * of the word with BYTE (or SHR and AND; SIGNEXTEND when signed) into its memory word, and the word's inputs are summed
 * into `sx` SIMD-style: odd and even fields added in lanes of twice their width, then one MUL by
 * 1 + 2^lane + 2^(2·lane) + … gathers every lane's sum in the top lane (no carry: 32 inputs of ≤ 255, 16 of
 * ≤ 65,535 fit it). The row's last word is masked to the row (in a batch the next row follows).
 */
function decodeWordsWithSum(plan: Plan, mem: MemoryMap): string {
  const inB = plan.inputBytes
  const n = plan.inputSize
  const per = 32 / inB
  const lane = 16 * inB
  let pair = 0n
  let ones = 0n
  for (let k = 0; k < 256 / lane; k++) (pair |= ((1n << BigInt(8 * inB)) - 1n) << BigInt(k * lane), (ones |= 1n << BigInt(k * lane)))
  const unsignedField = (j: number) => (inB === 1 ? `byte(${j}, c)` : j === per - 1 ? `and(c, 0xffff)` : j === 0 ? `shr(240, c)` : `and(shr(${240 - 16 * j}, c), 0xffff)`)
  const signedField = (j: number) => (inB === 1 ? `signextend(0, byte(${j}, c))` : j === 0 ? `sar(240, c)` : `signextend(1, ${j === per - 1 ? 'c' : `shr(${240 - 16 * j}, c)`})`)
  const field = plan.inputUnsigned ? unsignedField : signedField
  // signed fields: their unsigned sum less 2^(8·inB) per negative one (sign bits counted by one more MUL)
  let each = 0n
  for (let k = 0; k < per; k++) each |= 1n << BigInt(8 * inB * k)
  const negatives = plan.inputUnsigned ? '' : `shl(${8 * inB}, shr(${256 - 8 * inB}, mul(and(shr(${8 * inB - 1}, c), ${h(each)}), ${h(each)})))`
  const sumOf = `shr(${256 - lane}, mul(add(and(c, xm), and(shr(${8 * inB}, c), xm)), ${h(ones)}))`
  const sum = `sx := add(sx, ${negatives ? `sub(${sumOf}, ${negatives})` : sumOf})`
  const full = Math.floor(n / per)
  const body = Array.from({ length: per }, (_, j) => `mstore(${j ? `add(d, ${32 * j})` : 'd'}, ${field(j)})`).join(' ')
  const rest = n - full * per
  const tail = rest
    ? `{ let c := and(calldataload(add(rp, ${full * 32})), ${h(((1n << BigInt(8 * inB * rest)) - 1n) << BigInt(256 - 8 * inB * rest))}) ${Array.from({ length: rest }, (_, j) => `mstore(${h(mem.inputs + 32 * (full * per + j))}, ${field(j)})`).join(' ')} ${sum} }`
    : ''
  return `let sx := 0 { let xm := ${h(pair)} for { let p := rp let d := ${h(mem.inputs)} } lt(d, ${h(mem.inputs + 32 * per * full)}) { p := add(p, 32) d := add(d, ${32 * per}) } { let c := calldataload(p) ${body} ${sum} } ${tail} }`
}

/** Yul: decode the row at `rp` into memory once, summing it into `sx` (unrolled by 8). */
function decodeWithSum(plan: Plan, mem: MemoryMap): string {
  if (plan.categorical?.length) return gatherDecodeYul(plan, mem.blobLayout.layers[0]!.groups, mem.inputs, mem.gather, inputDecodeOp(plan), true)
  if ((plan.inputBytes === 1 || plan.inputBytes === 2) && plan.inputSize >= WORD_DECODE_MIN) return decodeWordsWithSum(plan, mem)
  const inB = plan.inputBytes
  const sh = 256 - 8 * plan.inputBytes
  const n = plan.inputSize
  const one = (p: string, d: string) => `{ let v := ${inputDecodeOp(plan)}(${sh}, calldataload(${p})) mstore(${d}, v) sx := add(sx, v) }`
  if (n <= UNROLL_DECODE) return ['let sx := 0', ...Array.from({ length: n }, (_, i) => one(i ? `add(rp, ${i * inB})` : 'rp', h(mem.inputs + 32 * i)))].join(' ')
  const turns = Math.floor(n / UNROLL_BY)
  const body = Array.from({ length: UNROLL_BY }, (_, u) => one(u ? `add(p, ${u * inB})` : 'p', u ? `add(d, ${32 * u})` : 'd')).join(' ')
  const rest = Array.from({ length: n - turns * UNROLL_BY }, (_, k) => one(`add(rp, ${(turns * UNROLL_BY + k) * inB})`, h(mem.inputs + 32 * (turns * UNROLL_BY + k)))).join(' ')
  return `let sx := 0 for { let p := rp let d := ${h(mem.inputs)} } lt(d, ${h(mem.inputs + 32 * turns * UNROLL_BY)}) { p := add(p, ${UNROLL_BY * inB}) d := add(d, ${32 * UNROLL_BY}) } { ${body} } ${rest}`
}

/** MACs of one group of a fused layer: its packets from `w` (after the bias packet), inputs at `x0` (each at most `xAbsMax`). */
function fusedMacs(g: GroupLayout, wb: number, nIn: number, x0: number, unrolled: boolean, xAbsMax: bigint, w0?: number): string[] {
  // a group copied to a fixed buffer (streaming) has constant packet addresses: PUSH, not DUP + PUSH + ADD
  const at = (t: number, lead: number) => (w0 === undefined ? plus('w', packetAt(g, t) - lead) : h(w0 + packetAt(g, t) - lead))
  const x = (i: number) => `mload(${h(x0 + 32 * i)})`
  // a first layer with gathered embedding columns multiplies only its numeric inputs' packets
  const packets = Math.ceil(nIn / g.perWord)
  // int4: odd fields' products summed 16 times too large in acc4, no SHR per lane word (nibbleAccFits)
  const nib = nibbleAccFits(g, wb, nIn, xAbsMax)
  const open = nib ? [`let mask4 := ${h(laneMask(g, wb) << 4n)} let acc4 := 0`] : []
  const close = nib ? ['acc := add(acc, sar(4, acc4))'] : []
  if (unrolled) return [...open, ...directPacketMacs(g, wb, nIn, 0, packets, at, x, nib), ...close]
  const turns = Math.floor(Math.floor(nIn / g.perWord) / FUSED_BY)
  const step = directPacketMacs(g, wb, Infinity, 0, FUSED_BY, (t, lead) => plus('p', t * g.packetBytes - lead), (i) => (i ? `mload(add(q, ${32 * i}))` : 'mload(q)'), nib)
  return [
    ...open,
    `for { let p := add(w, ${g.biasBytes}) let q := ${h(x0)} let e := add(p, ${turns * FUSED_BY * g.packetBytes}) } lt(p, e) { p := add(p, ${FUSED_BY * g.packetBytes}) q := add(q, ${32 * FUSED_BY * g.perWord}) } { ${step.join(' ')} }`,
    ...directPacketMacs(g, wb, nIn, turns * FUSED_BY, packets, at, x, nib),
    ...close,
  ]
}

/**
 * Yul for ONE row (`fused` kernel): inputs decoded once; each lane group's packets are read from the
 * blob (or, streaming, copied group by group into the small buffer at mem.blob by `copyRange`) and each
 * lane word is `and(shr(s, m), mask)` times its input; one MUL per group takes the weights' unsigned
 * bias out. Same exact integer sums as the packed kernel and the simulator.
 */
export function directRowYul(plan: Plan, mem: MemoryMap, chunkSize = MAX_CHUNK): string {
  let budget = FUSED_UNROLL_INPUTS
  const blocks = plan.layers.map((layer: LayerPlan, l) => {
    const wb = layerWeightBytes(plan, l)
    const lm = mem.layers[l]!
    const x0 = l === 0 ? mem.inputs : (lm.joined ?? mem.layers[l - 1]!.activations)
    // the largest |input| of the layer: the calldata range (layer 0), the previous layer's output bounds; a join's is not tracked here
    const xAbsMax = l === 0 ? (plan.inputMax > -plan.inputMin ? plan.inputMax : -plan.inputMin) : lm.joined === undefined ? plan.layers[l - 1]!.outMax.reduce((a, b) => (b > a ? b : a), 0n) : 1n << 256n
    const lines: string[] = [...(lm.joined !== undefined ? [joinYul(plan, mem, l)] : []), l === 0 ? decodeWithSum(plan, mem) : sumWords('sx', x0, layer.nIn), `// layer ${l} '${layer.name}' (fused)`]
    const nIn = multipliedInputs(plan, l)
    for (const { g0, count, index } of shapes(mem.blobLayout.layers[l]!.groups)) {
      const unrolled = nIn <= budget
      if (unrolled) budget -= nIn
      const at = (base: number, stride: number) => (count === 1 ? h(base) : `add(${h(base)}, mul(sub(g, ${index}), ${stride}))`)
      const from = at(g0.at, g0.bytes)
      // streaming: groups that all lie in one data contract are copied by one EXTCODECOPY each from its
      // address (read once, before the groups' loop); a run across a chunk boundary goes through copyRange
      const chunk = Math.floor(g0.at / chunkSize)
      const oneChunk = chunk === Math.floor((g0.at + count * g0.bytes - 1) / chunkSize)
      // (in a run that crosses one, each group not astride it still takes one EXTCODECOPY, from its chunk's address)
      const copy = oneChunk
        ? `extcodecopy(dc, ${h(mem.blob)}, ${at(g0.at - chunk * chunkSize + 1, g0.bytes)}, ${g0.bytes})`
        : g0.bytes > chunkSize
          ? // a group longer than a chunk always spans two or more: copyRange reads across them
            `copyRange(${from}, ${g0.bytes}, ${h(mem.blob)})`
          : `{ let f := ${from} let ci := div(f, ${chunkSize}) let co := sub(f, mul(ci, ${chunkSize})) switch gt(co, ${chunkSize - g0.bytes}) case 0 { extcodecopy(shr(96, mload(add(${h(mem.chunkTable)}, mul(ci, 20)))), ${h(mem.blob)}, add(co, 1), ${g0.bytes}) } default { copyRange(f, ${g0.bytes}, ${h(mem.blob)}) } }`
      const prelude = maskAndBiasDecl(g0, wb) + (mem.kernel.streams && oneChunk ? ` let dc := shr(96, mload(${h(mem.chunkTable + 20 * chunk)}))` : '')
      lines.push(
        forGroups(index, count, prelude, [
          mem.kernel.streams ? `${copy} let w := ${h(mem.blob)}` : `let w := ${at(mem.blob + g0.at, g0.bytes)}`,
          `let acc := ${biasedAccInit(g0, plan, layer, mem.kernel.streams ? h(mem.blob) : 'w')}`,
          ...fusedMacs(g0, wb, nIn, x0, unrolled, xAbsMax, mem.kernel.streams ? mem.blob : undefined),
          ...(nIn < layer.nIn ? gatherAddYul(plan, mem.blobLayout.layers[0]!.groups, g0, mem.gather, 'w') : []),
          `let y := ${at(lm.activations + 32 * g0.first, 32 * g0.lanes)}`,
          ...unpackLanes(plan, layer, g0.lanes, g0.spacing, (k) => (k ? `add(y, ${32 * k})` : 'y')),
        ]),
      )
    }
    const vec = vectorActivationYul(layer.activation, h(lm.activations), layer.nOut, plan)
    if (vec) lines.push(vec)
    return `{\n                ${lines.join('\n                ')}\n                }`
  })
  return blocks.join('\n                ')
}

