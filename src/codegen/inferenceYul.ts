import type { Plan } from '../fixed/types.ts'
import { activationExpr } from './activationYul.ts'
import type { MemoryMap } from './memoryMap.ts'

/** How a calldata feature is widened to a word: sign-extended (SAR), or zero-extended (SHR) for unsigned inputs. */
export const inputDecodeOp = (plan: Plan) => (plan.inputUnsigned ? 'shr' : 'sar')

const h = (n: number) => '0x' + n.toString(16)
/** Layers with at most this many (group, input) products are fully unrolled; bigger ones loop, 8 per turn. */
export const UNROLL_LIMIT = 48
const UNROLL_BY = 8
/** Inputs per turn of the fused single-row kernel's loop (a big model's predict: code size matters less there). */
const FUSED_BY = 8
/** Rows of at most this many features are decoded from calldata without a loop. */
const UNROLL_DECODE = 64

/**
 * Pack the lanes of one blob entry (lanes × `bytes` big-endian ints) starting `at` bytes into the MLOADed
 * word `m` into one SIMD word.
 */
function packExpr(m: string, lanes: number, bytes: number, laneBits: number, at = 0): string {
  const sh = 256 - 8 * bytes
  const field = (k: number) => (at + bytes * k ? `sar(${sh}, shl(${8 * (at + bytes * k)}, ${m}))` : `sar(${sh}, ${m})`)
  let expr = field(0)
  for (let k = 1; k < lanes; k++) expr = `add(${expr}, shl(${k * laneBits}, ${field(k)}))`
  return expr
}

/**
 * MAC statements for inputs [0, count) of a fused kernel: entry u (its weights for every lane) sits at
 * byte u·entry from the pointer \`w\`, and one MLOAD (into \`m\`) serves every entry that fits in its 32 bytes.
 */
function fusedMacs(count: number, entry: number, word: (m: string, at: number) => string, input: (u: number) => string): string[] {
  const out: string[] = []
  for (let u = 0; u < count; ) {
    const base = u * entry
    const terms: string[] = []
    for (; u < count && (u + 1) * entry - base <= 32; u++) terms.push(`mul(${word('m', u * entry - base)}, ${input(u)})`)
    out.push(`m := mload(${base ? `add(w, ${base})` : 'w'})`, ...macChain(terms))
  }
  return out
}

/**
 * Yul, run once per transaction: turn the blob's compact weights and biases into SIMD words in memory.
 * One word per (lane group, input) holds that input's weight for every output in the group.
 */
export function packWeightsYul(plan: Plan, mem: MemoryMap): string {
  const lines: string[] = []
  plan.layers.forEach((layer, l) => {
    const lb = mem.blobLayout.layers[l]!
    const lm = mem.layers[l]!
    const wb = plan.weightBytes
    const bb = plan.biasBytes
    const full = lb.groups.filter((g) => g.lanes === layer.lanes).length
    const emit = (count: number, src: number, stride: number, dst: number, lanes: number, bytes: number) => {
      if (count === 0) return
      const word = packExpr('m', lanes, bytes, layer.laneBits)
      if (count === 1) lines.push(`{ let m := mload(${h(src)}) mstore(${h(dst)}, ${word}) }`)
      else
        lines.push(`for { let t := 0 } lt(t, ${count}) { t := add(t, 1) } { let m := mload(add(${h(src)}, mul(t, ${stride}))) mstore(add(${h(dst)}, shl(5, t)), ${word}) }`)
    }
    lines.push(`// layer ${l} '${layer.name}': ${layer.nIn}→${layer.nOut}, ${layer.lanes} lanes of ${layer.laneBits} bits`)
    emit(full * layer.nIn, mem.blob + lb.weightsAt, layer.lanes * wb, lm.packedWeights, layer.lanes, wb)
    emit(full, mem.blob + lb.biasesAt, layer.lanes * bb, lm.packedBiases, layer.lanes, bb)
    const last = lb.groups[lb.groups.length - 1]!
    if (last.lanes !== layer.lanes) {
      emit(layer.nIn, mem.blob + lb.weightsAt + full * layer.lanes * layer.nIn * wb, last.lanes * wb, lm.packedWeights + full * layer.nIn * 32, last.lanes, wb)
      emit(1, mem.blob + lb.biasesAt + full * layer.lanes * bb, 0, lm.packedBiases + full * 32, last.lanes, bb)
    }
  })
  return lines.join('\n                ')
}

/** The SIMD word of lane group g: Σ_k v[g·lanes + k] · 2^(laneBits·k), in two's complement, as packing computes it. */
export function laneWord(v: bigint[], g: number, layer: { lanes: number; laneBits: number; nOut: number }): string {
  let w = 0n
  for (let k = 0; k < layer.lanes && g * layer.lanes + k < layer.nOut; k++) w += v[g * layer.lanes + k]! << BigInt(layer.laneBits * k)
  return '0x' + BigInt.asUintN(256, w).toString(16)
}

/** Terms folded into the accumulator per statement: right-nested ADDs need no stack juggling between products. */
const CHAIN = 16

/**
 * \`acc := add(t0, add(t1, … add(tk, acc)))\` statements: Yul evaluates arguments right to left, so the
 * innermost term goes first and the stack stays flat; the sum is the same as one ADD per statement.
 */
export function macChain(terms: string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < terms.length; i += CHAIN) out.push(`acc := ${terms.slice(i, i + CHAIN).reduceRight((rest, t) => `add(${t}, ${rest})`, 'acc')}`)
  return out
}

/** Whether a batch row's features are first decoded into memory (else read straight from calldata). */
export function decodesInputs(plan: Plan): boolean {
  const firstGroups = Math.ceil(plan.layers[0]!.nOut / plan.layers[0]!.lanes)
  return firstGroups > 1 || plan.inputSize * firstGroups > UNROLL_LIMIT
}

/**
 * Yul for one row: reads the row at calldata offset `rp`, leaves the outputs at the last layer's
 * activation buffer. Each lane group accumulates with one MUL per input, then the lanes are split with
 * SIGNEXTEND/SAR, shifted back to scale 2^F (the bias carries the rounding half) and activated.
 */
export function rowYul(plan: Plan, mem: MemoryMap, constants = false): string {
  const lines: string[] = []
  const inB = plan.inputBytes
  const inSh = 256 - 8 * inB
  const decodeToMemory = decodesInputs(plan)
  if (decodeToMemory && plan.inputSize <= UNROLL_DECODE)
    for (let i = 0; i < plan.inputSize; i++) lines.push(`mstore(${h(mem.inputs + 32 * i)}, ${inputDecodeOp(plan)}(${inSh}, calldataload(add(rp, ${h(i * inB)}))))`)
  else if (decodeToMemory)
    lines.push(`for { let i := 0 } lt(i, ${plan.inputSize}) { i := add(i, 1) } { mstore(add(${h(mem.inputs)}, shl(5, i)), ${inputDecodeOp(plan)}(${inSh}, calldataload(add(rp, mul(i, ${inB}))))) }`)
  plan.layers.forEach((layer, l) => {
    const lm = mem.layers[l]!
    const src = l === 0 ? (decodeToMemory ? mem.inputs : -1) : mem.layers[l - 1]!.activations
    const x = (i: number) => (src < 0 ? `${inputDecodeOp(plan)}(${inSh}, calldataload(add(rp, ${h(i * inB)})))` : `mload(${h(src + 32 * i)})`)
    const groups = Math.ceil(layer.nOut / layer.lanes)
    const unroll = constants || layer.nIn * groups <= UNROLL_LIMIT || src < 0
    lines.push(`// layer ${l} '${layer.name}'`)
    for (let g = 0; g < groups; g++) {
      const lanes = Math.min(layer.lanes, layer.nOut - g * layer.lanes)
      const pw = lm.packedWeights + g * layer.nIn * 32
      // \`code\` layout: the lane words are PUSH32 constants; otherwise they were packed into memory once per transaction
      const wordAt = (i: number) => (constants ? laneWord(layer.weights.map((r) => r[i]!), g, layer) : `mload(${h(pw + 32 * i)})`)
      const body: string[] = [`let acc := ${constants ? laneWord(layer.biases, g, layer) : `mload(${h(lm.packedBiases + 32 * g)})`}`]
      if (constants && !unroll) throw new Error('the code layout needs fully unrolled layers')
      if (unroll) body.push(...macChain(Array.from({ length: layer.nIn }, (_, i) => `mul(${wordAt(i)}, ${x(i)})`)))
      else {
        const turns = Math.floor(layer.nIn / UNROLL_BY)
        const step = macChain(Array.from({ length: UNROLL_BY }, (_, u) => `mul(mload(add(w, ${32 * u})), mload(add(q, ${32 * u})))`))
        body.push(`for { let w := ${h(pw)} let q := ${h(src)} let e := ${h(pw + turns * UNROLL_BY * 32)} } lt(w, e) { w := add(w, ${32 * UNROLL_BY}) q := add(q, ${32 * UNROLL_BY}) } { ${step.join(' ')} }`)
        body.push(...macChain(Array.from({ length: layer.nIn - turns * UNROLL_BY }, (_, k) => `mul(mload(${h(pw + 32 * (turns * UNROLL_BY + k))}), ${x(turns * UNROLL_BY + k)})`)))
      }
      const byteIdx = layer.laneBits / 8 - 1
      for (let k = 0; k < lanes; k++) {
        const out = h(lm.activations + 32 * (g * layer.lanes + k))
        const last = k === lanes - 1
        const act = activationExpr(layer.activation.kind, 'v', plan, layer.slopeQ)
        if (!last) body.push(`{ let lane := signextend(${byteIdx}, acc) let v := sar(${layer.wShift}, lane) mstore(${out}, ${act}) acc := sar(${layer.laneBits}, sub(acc, lane)) }`)
        else if (lanes > 1) body.push(`{ let v := sar(${layer.wShift}, signextend(${byteIdx}, acc)) mstore(${out}, ${act}) }`)
        else body.push(`{ let v := sar(${layer.wShift}, acc) mstore(${out}, ${act}) }`)
      }
      lines.push(`{ ${body.join('\n                    ')} }`)
    }
    if (layer.activation.kind === 'softmax') lines.push(`softmax(${h(lm.activations)}, ${layer.nOut})`)
  })
  return lines.join('\n                ')
}

/**
 * Yul for ONE row without the packing pass: each lane word is built from one MLOAD of the group-major
 * blob and multiplied at once, never stored. Packing once pays off only when a batch reuses the lane
 * words; for a single predict on a large model this fused kernel is cheaper. Same exact integer sums,
 * so the outputs are bit-identical to rowYul's.
 */
export function directRowYul(plan: Plan, mem: MemoryMap): string {
  const lines: string[] = []
  const inB = plan.inputBytes
  const wb = plan.weightBytes
  lines.push(`for { let i := 0 } lt(i, ${plan.inputSize}) { i := add(i, 1) } { mstore(add(${h(mem.inputs)}, shl(5, i)), ${inputDecodeOp(plan)}(${256 - 8 * inB}, calldataload(add(rp, mul(i, ${inB}))))) }`)
  plan.layers.forEach((layer, l) => {
    const lb = mem.blobLayout.layers[l]!
    const lm = mem.layers[l]!
    const src = l === 0 ? mem.inputs : mem.layers[l - 1]!.activations
    const turns = Math.floor(layer.nIn / FUSED_BY)
    const byteIdx = layer.laneBits / 8 - 1
    lines.push(`// layer ${l} '${layer.name}' (fused)`)
    // groups [g0, g1) all with `lanes` lanes; group g's entry for input i is at weightsAt + g·K·nIn·wb + i·lanes·wb
    const span = (g0: number, g1: number, lanes: number) => {
      if (g1 <= g0) return
      const entry = lanes * wb
      const word = (m: string, at: number) => packExpr(m, lanes, wb, layer.laneBits, at)
      const step = fusedMacs(FUSED_BY, entry, word, (u) => `mload(add(q, ${32 * u}))`)
      const rest = fusedMacs(layer.nIn - turns * FUSED_BY, entry, word, (k) => `mload(${h(src + 32 * (turns * FUSED_BY + k))})`)
      const unpack: string[] = []
      for (let k = 0; k < lanes; k++) {
        const act = activationExpr(layer.activation.kind, 'v', plan, layer.slopeQ)
        const out = `add(y, ${32 * k})`
        if (k < lanes - 1) unpack.push(`{ let lane := signextend(${byteIdx}, acc) let v := sar(${layer.wShift}, lane) mstore(${out}, ${act}) acc := sar(${layer.laneBits}, sub(acc, lane)) }`)
        else unpack.push(`{ let v := sar(${layer.wShift}, ${lanes > 1 ? `signextend(${byteIdx}, acc)` : 'acc'}) mstore(${out}, ${act}) }`)
      }
      lines.push(`for { let g := ${g0} } lt(g, ${g1}) { g := add(g, 1) } {
                    let acc := ${biasWord(lanes)}
                    let w := add(${h(mem.blob + lb.weightsAt)}, mul(g, ${layer.lanes * layer.nIn * wb}))
                    let q := ${h(src)}
                    let m := 0
                    for { let e := add(q, ${turns * FUSED_BY * 32}) } lt(q, e) { q := add(q, ${32 * FUSED_BY}) w := add(w, ${FUSED_BY * entry}) } { ${step.join(' ')} }
                    ${rest.join(' ')}
                    let y := add(${h(lm.activations)}, mul(g, ${32 * layer.lanes}))
                    ${unpack.join('\n                    ')}
                }`)
    }
    const biasWord = (lanes: number) => packExpr(`mload(add(${h(mem.blob + lb.biasesAt)}, mul(g, ${layer.lanes * plan.biasBytes})))`, lanes, plan.biasBytes, layer.laneBits)
    const last = lb.groups[lb.groups.length - 1]!
    const full = last.lanes === layer.lanes ? lb.groups.length : lb.groups.length - 1
    span(0, full, layer.lanes)
    span(full, lb.groups.length, last.lanes)
    if (layer.activation.kind === 'softmax') lines.push(`softmax(${h(lm.activations)}, ${layer.nOut})`)
  })
  return lines.join('\n                ')
}
