import type { Hex } from 'viem'
import type { Plan } from '../../fixed/types.ts'
import { isTensorPlan } from '../conv/tensorStepsOf.ts'
import { laneWordsOf } from '../dense/memoryMap.ts'
import { blobLayout, commitmentOf, encodeWeights } from '../weights/weightBlob.ts'

/**
 * A forwarding model (the default for a small dense MLP whose weights are embedded): its initial weights are
 * the `code` layout's PUSH-constant lane words, with no blob in the code and no per-transaction unpacking.
 * Its first update (which brings the 1-wei update mark) installs a kernel contract, the same kernel compiled
 * for the new weights with nothing else (no admin, no owner), followed by the canonical blob, which the
 * admin library hashes for the commitment. While the model holds wei and its state word names a kernel,
 * predict and predictBatch DELEGATECALL it (so the Predictions log is still the model's own).
 *
 * The model's code is laid out so that everything an updated model runs comes before the kernel: the
 * dispatch, the admin forwarding, the calldata checks and the forward itself (verify compares that prefix
 * after an update, when the kernel after it, compiled for the initial weights, is dead code).
 */

/** Blobs up to this size run a PUSH-constant kernel (its code stays far under EIP-170). */
export const FORWARD_LIMIT = 4_096
/** Lane words up to this many (≤ 33 bytes of code each, ~8.5 KB) in a forwarding model's kernel. */
export const FORWARD_LANE_WORDS = 256

/** Whether a model with embedded weights is a forwarding model: a dense chain of small size. */
export function forwardsPredict(plan: Plan): boolean {
  if (plan.attention || plan.recurrent || isTensorPlan(plan)) return false
  return blobLayout(plan).length <= FORWARD_LIMIT && laneWordsOf(plan) <= FORWARD_LANE_WORDS
}

/** The code's opcodes, PUSH data skipped: position, opcode and PUSH argument. */
export function opcodesOf(code: Hex): { at: number; op: number; arg: bigint }[] {
  const b = Buffer.from(code.slice(2), 'hex')
  const out: { at: number; op: number; arg: bigint }[] = []
  for (let i = 0; i < b.length; ) {
    const op = b[i]!
    const n = op >= 0x60 && op <= 0x7f ? op - 0x5f : 0
    out.push({ at: i, op, arg: n ? BigInt(`0x${b.subarray(i + 1, i + 1 + n).toString('hex') || '0'}`) : 0n })
    i += 1 + n
  }
  return out
}

/**
 * Where a forwarding model's initial kernel starts: the target x of its forward's test (the first
 * SELFBALANCE, then ISZERO PUSH2 x JUMPI). Everything an updated model runs is before x.
 */
export function forwardPrefixEnd(deployedBytecode: Hex): number | undefined {
  const ops = opcodesOf(deployedBytecode)
  const k = ops.findIndex((o) => o.op === 0x47)
  if (k < 0 || ops[k + 1]?.op !== 0x15 || ops[k + 2]?.op !== 0x61 || ops[k + 3]?.op !== 0x57) return undefined
  return Number(ops[k + 2]!.arg)
}

/**
 * The code an updated forwarding model runs, for a comparison with the chain's: the compiled code's bytes
 * before its initial kernel, where those that depend on the initial commitment (`other`: the same model
 * compiled with another commitment, commitmentOverride) may differ; the admin library never reads them
 * once the state word names a kernel. Undefined when the layout is not the one forwardingModel.ts describes.
 */
export function forwardingPrefix(deployedBytecode: Hex, other: Hex): { end: number; ignore: { start: number; length: number }[] } | undefined {
  const end = forwardPrefixEnd(deployedBytecode)
  if (end === undefined || forwardPrefixEnd(other) !== end) return undefined
  const a = Buffer.from(deployedBytecode.slice(2), 'hex')
  const b = Buffer.from(other.slice(2), 'hex')
  const ignore: { start: number; length: number }[] = []
  for (let i = 0; i < end; i++) if (a[i] !== b[i]) ignore.push({ start: i, length: 1 })
  // the commitment word (32 bytes) and PARAMS' commitBit byte: nothing else may depend on it
  if (ignore.length > 33) return undefined
  // and what verify lets differ must be PUSH data (never an opcode a forger could choose), and no jump before
  // the kernel may go past its start (code there is never compared once a kernel is named)
  const ops = opcodesOf(deployedBytecode)
  const data = new Set(ops.flatMap((o) => (o.op >= 0x60 && o.op <= 0x7f ? Array.from({ length: o.op - 0x5f }, (_, k) => o.at + 1 + k) : [])))
  if (ignore.some((r) => !data.has(r.start))) return undefined
  if (ops.some((o, i) => o.at < end && o.op >= 0x60 && o.op <= 0x7f && (ops[i + 1]?.op === 0x56 || ops[i + 1]?.op === 0x57) && o.arg > BigInt(end))) return undefined
  return { end, ignore }
}

/**
 * The commitment as the model hands it to the admin library: the top bit set (so solc always writes it as
 * a PUSH32, whatever the weights: the code before the kernel keeps its length) and the commitment shifted
 * right by one; the dropped low bit goes in PARAMS (`commitBit`).
 */
export function commitmentWord(commitment: Hex): { word: Hex; bit: number } {
  const c = BigInt(commitment)
  return { word: `0x${((1n << 255n) | (c >> 1n)).toString(16)}`, bit: Number(c & 1n) }
}

/** The bytes an update uploads to a forwarding model: the kernel contract's runtime code, then the canonical blob. */
export function kernelPayload(kernelRuntime: Hex, plan: Plan): { payload: Uint8Array; commitment: Hex } {
  const blob = encodeWeights(plan)
  const code = Buffer.from(kernelRuntime.slice(2), 'hex')
  // the blob follows the runtime as bytes the EVM would run if execution ever reached them: its last
  // instruction must end every path (STOP, JUMP, RETURN, REVERT, INVALID), none may run on into the weights
  const last = opcodesOf(kernelRuntime).at(-1)
  if (!last || ![0x00, 0x56, 0xf3, 0xfd, 0xfe].includes(last.op))
    throw new Error(`internal error: the kernel contract's code ends with opcode 0x${last?.op.toString(16) ?? '?'}, which would run on into its weights`)
  const payload = new Uint8Array(code.length + blob.length)
  payload.set(code)
  payload.set(blob, code.length)
  return { payload, commitment: commitmentOf(blob) }
}

/** Yul: an updated model's predict and predictBatch, run by the kernel contract its state word names. */
export const forwardYul = () => `// a model that holds wei may have been updated (every update's first chunk carries 1 wei): when its
                // state word names a kernel contract (the update's weights, runtime code ++ blob), that kernel runs
                // this call in the model's context (its Predictions log is the model's). Wei forced in without an
                // update names none: the weights are still the ones below
                if selfbalance() {
                    let st := sload(2)
                    if shl(96, st) {
                        calldatacopy(0, 0, calldatasize())
                        let ok := delegatecall(gas(), st, 0, calldatasize(), 0, 0)
                        returndatacopy(0, 0, returndatasize())
                        if iszero(ok) { revert(0, returndatasize()) }
                        return(0, returndatasize())
                    }
                }`

/**
 * Whether `auto` precision should weigh a model's widths as the `code` layout does (PUSH constants, not blob
 * bytes): a dense chain small enough to become a forwarding model with embedded weights (at most
 * FORWARD_LIMIT bytes at int32). Decided from the model, before there is a plan.
 */
export function forwardCandidate(model: { tensorLayers?: unknown[]; recurrent?: unknown; attention?: unknown; layers: { weight: number[][] }[] }): boolean {
  if (model.attention || model.recurrent || model.tensorLayers?.length) return false
  return 4 * model.layers.reduce((n, l) => n + l.weight.length * (l.weight[0]?.length ?? 0) + l.weight.length, 0) <= FORWARD_LIMIT
}
