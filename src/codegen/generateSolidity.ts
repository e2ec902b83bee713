import { getAddress, toHex, type Hex } from 'viem'
import { describeActivation } from '../ir/buildModel.ts'
import { weightWidthText, type Plan } from '../fixed/types.ts'
import { scaleText } from '../fixed/makePlan.ts'
import { inputScaleText, inputTypeText, safeInputRange } from '../fixed/encodeRows.ts'
import { ML2SC_VERSION } from '../version.ts'
import { ERRORS, EVENTS, FUNCTIONS, predictSignature, selectorOf, topicOf } from './admin/abiSignatures.ts'
import { adminLibrary, adminParams, stateMask, STORAGE_BASE, type LayoutKind } from './admin/adminLibrary.ts'
import { activationFunctionsYul, leakyFunctionYul } from './dense/activationYul.ts'
import { directRowYul, packWeightsYul, rowYul } from './dense/inferenceYul.ts'
import { kernelOf, memoryMap } from './dense/memoryMap.ts'
import { activationPlanOf, CONV_EMBED_LIMIT, convInference } from './conv/convInference.ts'
import { recurrentInference } from './sequence/recurrentInference.ts'
import { BAD_CATEGORY } from './dense/categoricalYul.ts'
import { attentionInference } from './sequence/attentionInference.ts'
import { isTensorPlan } from './conv/tensorStepsOf.ts'
import { blobLayout, chunkSizes, commitmentOf, encodeWeights, MAX_CHUNK } from './weights/weightBlob.ts'
import { commitmentWord, forwardsPredict, forwardYul } from './forwarding/forwardingModel.ts'

export type GenerateOptions = {
  contractName: string
  /** Bytes per data-contract chunk for uploads and updates (≤ 24,575). */
  chunkSize?: number
  modelFile?: string
  /** Put the initial weights in the contract's own code: no upload transaction, CODECOPY instead of EXTCODECOPY. Default: when they fit. */
  embedWeights?: boolean
  /**
   * Where the weights live: `datacontract` (SSTORE2 chunks, or embedded; updates swap pointers), `code`
   * (the SIMD lane words are PUSH32 constants: cheapest inference, immutable), `storage` (packed slots,
   * updated in place).
   */
  layout?: WeightLayout
  /** The owner until the first ownership transfer (`chain.owner`); default: whoever sends the creation (the deployer). */
  owner?: Hex
  /**
   * Embedded weights of a small dense model as PUSH-constant lane words, updates as kernel contracts
   * (forwardingModel.ts). Default: whenever forwardsPredict holds; false keeps the blob in the code.
   */
  forward?: boolean
  /** The kernel contract an update of a forwarding model installs: predict and predictBatch only. */
  kernelOnly?: boolean
  /** verify only: another commitment in a forwarding model's code, to find the bytes that depend on it (forwardingPrefix). */
  commitmentOverride?: Hex
}

export type WeightLayout = 'datacontract' | 'code' | 'storage'

/** Bytes per `writeChunk` of the storage layout: 512 new slots ≈ 11.3M gas, under the per-transaction cap. */
export const STORAGE_CHUNK = 16_384

/** Weights up to this size are embedded in the model contract (its code must stay under EIP-170's 24,576 bytes). */
export const EMBED_LIMIT = 12_288

/** Whether the contract carries its initial weights in its own code (then deploying is uploading). */
export function embedsWeights(plan: Plan, opts: Pick<GenerateOptions, 'embedWeights' | 'layout'> = {}): boolean {
  if (opts.layout === 'storage') return false
  if (opts.layout === 'code') return true
  const bytes = blobLayout(plan).length
  // never a blob of ≤ 32 bytes: solc would inline it as PUSH data, not put it at the code's tail, where the
  // admin library hashes the embedded weights and where verify lets an update's dead weights differ
  if (bytes <= 32) return false
  return opts.embedWeights ?? bytes <= (isTensorPlan(plan) ? CONV_EMBED_LIMIT : EMBED_LIMIT)
}

/** Whether generateSolidity makes a forwarding model (forwardingModel.ts): embedded weights of a small dense model, in one chunk. */
export function isForwardingModel(plan: Plan, opts: Pick<GenerateOptions, 'embedWeights' | 'layout' | 'forward' | 'chunkSize'> = {}): boolean {
  const layout = opts.layout ?? 'datacontract'
  return layout === 'datacontract' && opts.forward !== false && embedsWeights(plan, opts) && forwardsPredict(plan) && blobLayout(plan).length <= chunkSizeFor(layout, opts.chunkSize)
}

/** Bytes per upload chunk for a layout. */
export function chunkSizeFor(layout: WeightLayout, requested?: number): number {
  if (layout === 'storage') return Math.max(32, Math.floor(Math.min(requested ?? STORAGE_CHUNK, STORAGE_CHUNK) / 32) * 32)
  return Math.min(requested ?? MAX_CHUNK, MAX_CHUNK)
}

const h = (n: number | bigint) => '0x' + n.toString(16)
/**
 * The address in a word's low 160 bits, in 6 bytes of code (the mask's PUSH20 is 21: solc's constant optimizer,
 * which ml2sc compiles without, made it a 5-byte computation of 9 more gas; this costs 6 more).
 */
const addr = (x: string) => `shr(96, shl(96, ${x}))`
const sel = (s: string) => selectorOf(s)
const topic = (s: string) => topicOf(s)

/**
 * The model contract. The interface declares the whole ABI; the contract itself holds only inference
 * (predict, predictBatch) in one assembly fallback, which keeps the code small (deploy gas is 200 per
 * byte), and DELEGATECALLs ml2sc's shared admin library for everything else (see adminLibrary.ts, which
 * also documents the storage). Weights are the canonical blob: embedded as a constant, in SSTORE2-style
 * data contracts (code = STOP ++ chunk), in storage, or PUSH32 lane words (`code`); they are read once
 * per transaction and packed into SIMD lane words.
 */
export function generateSolidity(plan: Plan, opts: GenerateOptions): string {
  const layout = opts.layout ?? 'datacontract'
  const chunkSize = chunkSizeFor(layout, opts.chunkSize)
  const chunks = chunkSizes(blobLayout(plan).length, chunkSize)
  const kernelOnly = opts.kernelOnly === true
  const embed = !kernelOnly && layout === 'datacontract' && embedsWeights(plan, opts)
  // a forwarding model, or its kernel contract: the code layout's kernel, the admin forwarding before it
  const fwd = !kernelOnly && isForwardingModel(plan, opts)
  const codeKernel = layout === 'code' || fwd || kernelOnly
  // a convolutional model runs the tensor kernels (convInference.ts); an MLP the dense ones
  // a sequence model runs the recurrent kernel (recurrentInference.ts)
  const conv = plan.attention ? attentionInference(plan, { layout }) : plan.recurrent ? recurrentInference(plan, { layout }) : isTensorPlan(plan) ? convInference(plan, { layout, embeddedBytes: embed ? blobLayout(plan).length : 0 }) : undefined
  const mem = conv ? undefined : memoryMap(plan, kernelOf(plan, { layout: codeKernel ? 'code' : layout, embedded: embed }), chunks.length)
  const kernel = mem ? mem.kernel : { mode: 'conv' as const, streams: false }
  const blobAt = conv ? conv.blob : mem!.blob
  const blobLength = conv ? conv.blobLength : mem!.blobLayout.length
  const end = conv ? conv.end : mem!.end
  const rowBytes = plan.inputSize * plan.inputBytes
  const rowWords = Math.ceil(rowBytes / 32)
  // bits of zero padding after the row in predict's last word
  const padBits = 8 * (32 * rowWords - rowBytes)
  const predictSelector = sel(predictSignature(rowBytes))
  const outRowBytes = plan.outputSize * plan.outputBytes
  const arch = [plan.inputShape ? plan.inputShape.join('×') : String(plan.inputSize), ...(plan.tensorLayers ?? []).map((l) => `${l.kind} ${l.outShape.join('×')}`), ...(plan.recurrent ? [`${plan.recurrent.kind} ${plan.recurrent.hidden}`] : []), ...(plan.attention ? [`attention ${plan.attention.heads}h ${plan.attention.pool}`] : []), ...plan.layers.map((l) => `${l.nOut} ${describeActivation(l.activation)}`)].join(' → ')
  const [lo, hi] = safeInputRange(plan)
  const scale = scaleText(plan)
  const lastAct = conv ? conv.outputsAt : mem!.layers[mem!.layers.length - 1]!.activations
  const blobHex = embed && !fwd ? toHex(encodeWeights(plan)).slice(2) : ''
  const blobWords = Math.ceil(blobLength / 32)
  const name = opts.contractName
  // the last chunk may be shorter: chunkSize - eq(i, last)·(chunkSize - lastLength)
  const lastShort = chunkSize - chunks[chunks.length - 1]!
  const chunkLen = (i: string) => (chunks.length === 1 ? String(chunks[0]) : `sub(${chunkSize}, mul(eq(${i}, ${chunks.length - 1}), ${lastShort}))`)
  const writeOutputs = Array.from({ length: plan.outputSize }, (_, j) => `mstore(add(o, ${j * plan.outputBytes}), shl(${256 - 8 * plan.outputBytes}, mload(${h(lastAct + 32 * j)})))`).join(' ')
  const err = (k: keyof typeof ERRORS) => sel(ERRORS[k])
  const fn = (k: keyof typeof FUNCTIONS) => sel(FUNCTIONS[k])
  const ev = (k: keyof typeof EVENTS) => topic(EVENTS[k])
  // weights in the contract's own code: ready at deploy, with a commitment known now
  const inCode = embed || layout === 'code'
  const commitment = inCode ? commitmentOf(encodeWeights(plan)) : '0x0'
  // the library hashes embedded weights from the tail of the code (embedsWeights: always more than 32
  // bytes); the code layout holds lane words, not the blob, and hands its commitment over
  const passesCommitment = layout === 'code' || fwd
  const cw = commitmentWord(opts.commitmentOverride ?? (commitment as Hex))
  const commitmentPassed = fwd ? cw.word : commitment
  const kind = ({ datacontract: 0, code: 1, storage: 2 } as const)[layout] satisfies LayoutKind
  const adminInfo = { kind, embedded: embed, chunks: chunks.length, ...(fwd ? { forwards: true, commitBit: cw.bit } : {}) }
  const mask = stateMask(adminInfo)
  const params = adminParams({
    ...adminInfo,
    chunkSize,
    lastChunk: chunks[chunks.length - 1]!,
    blobLength: blobLength,
    inputs: plan.inputSize,
    outputs: plan.outputSize,
    rowBytes,
    outputBytes: plan.outputBytes,
    ...(plan.decimals !== undefined ? { scaleBase: 10, scaleExp: plan.decimals, inputScaleExp: plan.decimals } : { scaleBase: 2, scaleExp: plan.F, inputScaleExp: plan.inputFraction ?? plan.F }),
  })
  const lib = adminLibrary()
  // a fixed owner is a checksummed literal in the source (so the creation code commits to it: a CREATE2
  // factory or a Safe can deploy it for that owner); without one, the account that sends the creation
  const initialOwner = opts.owner ? getAddress(opts.owner) : undefined

  const checksYul = `                // custom errors are written as the word selector (and arguments after it) and revert from byte 28:
                // two bytes of code fewer than shl(224, selector) at 0
                if callvalue() { mstore(0, ${err('UnexpectedValue')}) mstore(32, callvalue()) revert(28, 36) }
                // predict(bytes32[${rowWords}]): one row, the ${rowWords} word(s) after the selector, the call data exactly that
                // long. predictBatch(bytes): n rows of ${rowBytes} bytes, the length bounded first so add(off, len) cannot wrap
                let off := 4
                let len := ${rowBytes}
                let n := 1
                if iszero(single) {
                    off := add(4, calldataload(4))
                    len := calldataload(off)
                    off := add(off, 32)
                    if or(gt(len, calldatasize()), gt(add(off, len), calldatasize())) { mstore(0, ${err('BadCalldata')}) revert(28, 4) }
                    n := div(len, ${rowBytes})
                    if or(iszero(n), iszero(eq(len, mul(n, ${rowBytes})))) { mstore(0, ${err('BadInputLength')}) mstore(32, len) mstore(64, ${rowBytes}) revert(28, 68) }
                }
                // and its padding after the row must be zero: a row packed too long is refused, never read in part
                // (and() is bitwise: the padding test is made 0 or 1 before it meets \`single\`)
                if and(single, ${padBits ? `gt(or(iszero(eq(calldatasize(), ${4 + 32 * rowWords})), shl(${256 - padBits}, calldataload(${4 + 32 * rowWords - 32}))), 0)` : `iszero(eq(calldatasize(), ${4 + 32 * rowWords}))`}) { mstore(0, ${err('BadCalldata')}) revert(28, 4) }`
  const stateYul = `${layout === 'code' ? `                // weights in the code: always ready, never updated (writeChunk reverts Immutable), so no state to read
` : `${embed ? `                // a model that has never held wei has never been updated (every update's first chunk carries 1 wei,
                // and nothing here ever sends wei out): its weights are the embedded ones, no state read needed
                if selfbalance() {
` : `                {
`}                let st := sload(2)
                if ${mask >> 248n ? 'shr(248, st)' : 'iszero(shr(248, st))'} { mstore(0, ${err('NotReady')}) revert(28, 4) }
${layout === 'storage' ? `                for { let w := 0 } lt(w, ${blobWords}) { w := add(w, 1) } { mstore(add(${h(blobAt)}, shl(5, w)), sload(add(${h(STORAGE_BASE)}, w))) }
` : ''}${layout === 'datacontract' && !kernel.streams ? `                if shl(96, st) { copyChunks(st, ${h(blobAt)}) }
` : ''}${kernel.streams ? `                // the data contracts' addresses, 20 bytes each, from the upload's address table (the one SLOAD
                // of the state word finds them all): lane groups are then copied one at a time
                ${chunks.length === 1 ? `mstore(${h(mem!.chunkTable)}, shl(96, st))` : `extcodecopy(${addr('st')}, ${h(mem!.chunkTable)}, 1, ${20 * chunks.length})`}
` : ''}                }
`}${kernel.mode === 'packed' ? `                ${packWeightsYul(plan, mem!)}
` : ''}${conv ? `                ${conv.perTx}
` : ''}`
  const kernelYul = `                let base := ${h(end)}
                let o := ${h(end + 0x40)}
                for { let rp := off let rowsEnd := add(off, len) } lt(rp, rowsEnd) { rp := add(rp, ${rowBytes}) } {
                    ${conv ? conv.perRow : kernel.mode === 'fused' ? directRowYul(plan, mem!, chunkSize) : rowYul(plan, mem!, kernel.mode === 'code')}
                    ${writeOutputs}
                    o := add(o, ${outRowBytes})
                }
                if single {
                    // the outputs become an ABI int256[] where they are: offset and length go in the two words before them
                    mstore(${h(lastAct - 0x40)}, 0x20)
                    mstore(${h(lastAct - 0x20)}, ${plan.outputSize})
                    return(${h(lastAct - 0x40)}, ${0x40 + 32 * plan.outputSize})
                }
                let size := mul(n, ${outRowBytes})
                mstore(base, 0x20)
                mstore(add(base, 0x20), size)
                mstore(add(add(base, 0x40), size), 0)
                let total := add(0x40, and(add(size, 31), not(31)))
                log0(base, total)
                return(base, total)`
  const adminYul = `            let admin := ${lib.address}
            if iszero(extcodesize(admin)) { mstore(0, ${err('AdminLibraryMissing')}) mstore(32, admin) revert(28, 36) }
            let n := calldatasize()
            calldatacopy(0, 0, n)
            mstore(n, ${h(params)})
            mstore(add(n, 32), ${passesCommitment ? commitmentPassed : '0'})
            mstore(add(n, 64), initialOwner)
            let ok := delegatecall(gas(), admin, 0, add(n, 96), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) { revert(0, returndatasize()) }
            return(0, returndatasize())`
  const functionsYul = `            ${activationFunctionsYul(conv ? activationPlanOf(plan) : plan)}
            ${leakyFunctionYul(conv ? activationPlanOf(plan) : plan)}`

  return `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// Generated by ml2sc ${ML2SC_VERSION}. Do not edit: regenerate with \`ml2sc generate\`.
//
// Architecture   ${arch}${opts.modelFile ? `   (from ${opts.modelFile})` : ''}
// Fixed point    activations at scale ${scale}; weights ${weightWidthText(plan)} with per-layer scales 2^[${[...(plan.tensorLayers ?? []).flatMap((l) => (l.kind === 'conv' ? [l.wShift] : [])), ...plan.layers.map((l) => l.wShift)].join(', ')}];
//                biases int${8 * plan.biasBytes}; inputs ${inputTypeText(plan)} at ${inputScaleText(plan)} in calldata (${rowBytes} bytes per row); outputs int${8 * plan.outputBytes}.
// Safe inputs    [${lo}, ${hi}] per feature: interval analysis proves that no accumulator lane can overflow.
// SIMD lanes     ${[...(plan.tensorLayers ?? []).flatMap((l) => (l.kind === 'conv' ? [l] : [])), ...plan.layers].map((l) => `${l.name}: ${l.lanes} × ${l.laneBits} bits`).join('; ')}
// Weights        ${blobLength} bytes, layout ${layout}: ${layout === 'code' ? 'SIMD lane words as PUSH32 constants, immutable' : layout === 'storage' ? `packed storage slots from ${h(STORAGE_BASE)}, written in ${chunks.length} chunk(s) of ≤ ${chunkSize} bytes` : `${embed ? 'embedded in this contract\'s code; ' : ''}${kernelOnly ? 'SIMD lane words as PUSH32 constants: the kernel contract an update of a forwarding model installs' : fwd ? 'SIMD lane words as PUSH32 constants; an update installs a kernel contract that predict DELEGATECALLs' : `updates go to ${chunks.length} data contract(s) of ≤ ${chunkSize} bytes`}`}.

/// @notice The interface of every ml2sc model contract.
interface I${name} {
    ${[...Object.values(ERRORS), ...(plan.categorical?.length ? [BAD_CATEGORY] : [])].join(';\n    ')};

    ${Object.values(EVENTS).join(';\n    ')};

    /// @notice Many rows (${rowBytes} bytes each, ${inputTypeText(plan)} features at ${inputScaleText(plan)}); emits Predictions with ${plan.outputSize} value(s) of ${plan.outputBytes} bytes per row. predict takes one row, zero-padded to ${rowWords} word(s).${plan.heads ? ` The outputs, one after another: ${plan.heads.map((hd) => `${hd.name} (${hd.size})`).join(', ')}.` : ''}
    ${[FUNCTIONS.predictBatch, predictSignature(rowBytes), ...Object.entries(FUNCTIONS).filter(([k]) => k !== 'predictBatch').map(([, v]) => v)].join(';\n    ')};
}

contract ${name} {${embed && !fwd ? `\n    /// @notice The initial weights in ml2sc's canonical encoding (keccak256 = the model commitment).\n    bytes internal constant WEIGHTS = hex"${blobHex}";\n` : ''}${kernelOnly ? '' : `
    /// @notice The owner until the first ownership transfer (slot 0 is empty until then): ${initialOwner ? 'chain.owner' : 'the deployer'}.
    address private immutable INITIAL_OWNER = ${initialOwner ?? 'msg.sender'};

    constructor() {
        assembly {
            log3(0, 0, ${ev('OwnershipTransferred')}, 0, ${initialOwner ?? 'caller()'})${inCode ? `
            // version 1, ready: a zero state word means exactly that here (see the admin library's state mask)
            mstore(0, 1)
            mstore(32, ${commitment})
            log1(0, 64, ${ev('ModelUpdated')})` : ''}
        }
    }
`}
    // payable only for the update mark (1 wei with an upload's first chunk); everything else refuses value
    fallback() external payable {${fwd ? `
        address initialOwner = INITIAL_OWNER;` : ''}${embed && !fwd ? `
        // the first allocation: the blob lands at 0x80 (length) / 0xa0 (data), where inference expects it
        // (updated weights replace it); WEIGHTS is the last thing in the code, where the admin library hashes it
        bytes memory initialWeights = WEIGHTS;
        initialWeights;` : ''}
        assembly {${codeKernel && layout !== 'code' ? `
${functionsYul}
            // the dispatch, the admin forwarding, the calldata checks and the forward to an update's kernel come
            // first, the kernel for the initial weights last (forwardingModel.ts: verify compares what is before it)
            let selector := shr(224, calldataload(0))
            let single := eq(selector, ${predictSelector})
            if iszero(or(single, eq(selector, ${fn('predictBatch')}))) {${kernelOnly ? `
                // a kernel contract answers predict and predictBatch only, in the model's context (DELEGATECALL)
                revert(0, 0)` : `
                // everything else (ownership, uploads and updates, the commitment, the getters): the admin library
${adminYul}`}
            }
${checksYul}${fwd ? `
                ${forwardYul()}` : ''}
${kernelYul}` : `
           ${layout === 'datacontract' && !kernel.streams ? `
            /// copy every data contract's chunk (its code after the STOP byte) to memory at p
            function copyChunks(st, p) {${chunks.length === 1 ? `
                extcodecopy(${addr('st')}, p, 1, ${chunks[0]})` : `
                // st names the upload's address table (STOP ++ 20 bytes per chunk): no SLOAD per chunk
                let t := ${addr('st')}
                for { let i := 0 } lt(i, ${chunks.length}) { i := add(i, 1) } {
                    extcodecopy(t, 12, add(1, mul(i, 20)), 20)
                    let a := ${addr('mload(0)')}
                    let len := ${chunkLen('i')}
                    extcodecopy(a, p, 1, len)
                    p := add(p, len)
                }`}
            }` : ''}${kernel.streams ? `
            /// copy blob bytes [from, from + len) from the data contracts (addresses in the chunk table) to memory at dst
            function copyRange(from, len, dst) {
                for {} len {} {
                    let i := div(from, ${chunkSize})
                    let off := sub(from, mul(i, ${chunkSize}))
                    let k := sub(${chunkSize}, off)
                    if gt(k, len) { k := len }
                    extcodecopy(shr(96, mload(add(${h(mem!.chunkTable)}, mul(i, 20)))), dst, add(off, 1), k)
                    from := add(from, k)
                    dst := add(dst, k)
                    len := sub(len, k)
                }
            }` : ''}
${functionsYul}
            // inference, inline (no Yul function calls: each costs ~40 gas and bytes of code)
            let selector := shr(224, calldataload(0))
            let single := eq(selector, ${predictSelector})
            if or(single, eq(selector, ${fn('predictBatch')})) {
${checksYul}
${stateYul}${kernelYul}
            }
        }
        // everything else (ownership, uploads and updates, the commitment, the getters) is the same code for
        // every model: ml2sc's shared admin library, deployed once per chain at a CREATE2 address fixed by its code
        address initialOwner = INITIAL_OWNER;
        assembly {
${adminYul}`}
        }
    }
}
`
}
