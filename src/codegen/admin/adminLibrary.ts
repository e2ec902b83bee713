import { concat, getContractAddress, pad, type Hex } from 'viem'
import { SOLC_DEFAULT_OPTIMIZER, compileSolidity, solcStandardInput, type CompiledContract } from '../../compile/compileSolidity.ts'
import { runtimeCodeHash } from '../../compile/runtimeCodeHash.ts'
import { committedAdminBuild } from './adminLibraryBuild.ts'
import { ML2SC_VERSION } from '../../version.ts'
import { ERRORS, EVENTS, FUNCTIONS, selectorOf, topicOf } from './abiSignatures.ts'
import { OFFSET, type AdminParams } from './adminParams.ts'
export { adminParams, stateMask, type AdminParams, type LayoutKind } from './adminParams.ts'

/**
 * ml2sc's shared admin library. Every model contract keeps only its inference code (predict and
 * predictBatch) and DELEGATECALLs here for everything else: ownership, weight uploads and updates,
 * the commitment and the getters. That code is the same for every model, so it is deployed once per
 * chain, at a CREATE2 address fixed by its code (through the deterministic deployment proxy that
 * anvil, Foundry and most chains carry), and each model saves ~1 KB of code: ~200k gas of deploy.
 *
 * The model appends three words to the call data: PARAMS (its shape, layout and chunking, packed; see
 * `adminParams`), the commitment of the weights in its code (`code` layout, and a forwarding model: forwardingModel.ts; otherwise 0: embedded weights are the last bytes of the model's code, hashed here) and its initial owner (`chain.owner`, or its deployer), the owner
 * until the first ownership transfer (an immutable: no SSTORE at deploy).
 *
 * Storage (the model's): slot 0 owner (empty until a transfer: the initial owner), slot 1 pending owner, slot 2 the state word = chunk0 address
 * (once an upload of several chunks is complete: its address table, a data contract of every chunk's address) |
 * version << 160 (32 bits) | upload tag << 192 (the first 4 bytes of the commitment the upload in progress
 * named) | chunks written << 224 | ready << 248, stored XOR a mask that makes a contract with
 * weights in its code start as "version 1, ready, all chunks written" with no constructor SSTORE;
 * slot 2 + i the address of chunk i ≥ 1 while an upload is in progress (once it completes, everything reads
 * the address table, as predict does); the storage layout's weight words from STORAGE_BASE. A model with
 * embedded weights and a balance of 0 reads no state word at all, predict and getters alike (the update mark).
 */

/** CREATE2 deployment proxy (Arachnid's), present on anvil, in Foundry and on most EVM chains. */
export const CREATE2_FACTORY: Hex = '0x4e59b44847b379578588920ca78fbf26c0b4956c'
const SALT: Hex = pad('0x6d6c327363', { size: 32 }) // "ml2sc"
/** Wei that an upload's first chunk carries to a model holding none: the update mark (writeChunk takes exactly this). */
export const UPDATE_MARK = 1n
/** First storage slot of the `storage` layout's weight words (far from the fixed slots 0–2 and chunk pointers). */
export const STORAGE_BASE = 0x10000
/** The library is compiled for the oldest EVM any supported chain runs, so one address serves them all. */
export const ADMIN_LIBRARY_EVM = 'paris'

const sel = (k: keyof typeof FUNCTIONS) => selectorOf(FUNCTIONS[k])
const err = (k: keyof typeof ERRORS) => selectorOf(ERRORS[k])
const ev = (k: keyof typeof EVENTS) => topicOf(EVENTS[k])
const ADDR = '0xffffffffffffffffffffffffffffffffffffffff'

/** Yul: PARAMS field `k` of the call (the word sits 96 bytes before the end of the call data). */
const param = (k: keyof AdminParams) => `and(shr(${OFFSET[k].at}, calldataload(sub(calldatasize(), 96))), ${'0x' + ((1n << BigInt(OFFSET[k].bits)) - 1n).toString(16)})`

export function adminLibrarySolidity(): string {
  return `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// ml2sc ${ML2SC_VERSION} shared admin library. Model contracts DELEGATECALL it for everything but inference,
// with PARAMS, the embedded-weights commitment and the initial owner appended to the call data. It keeps no state of its own.
contract Ml2scAdmin {
    /// @notice The library's own address: it only ever runs in a model's context (DELEGATECALL).
    address private immutable SELF = address(this);

    // payable: a model forwards its msg.value (DELEGATECALL keeps it); only writeChunk accepts wei (the update mark)
    fallback() external payable {
        address libraryAddress = SELF;
        assembly {
            // called directly (not through a model's DELEGATECALL), or without the appended words: refused
            if or(eq(address(), libraryAddress), lt(calldatasize(), 100)) { revert(0, 0) }
            // wei is taken only as the update mark: exactly ${UPDATE_MARK} wei, with chunk 0 (writeChunk(0, …)) of a model whose
            // weights are in its code (embedded) and whose balance was 0 before this call. Any other wei would stay here
            // for good (nothing ever sends it out) and mean nothing: refused
            if callvalue() {
                if iszero(and(and(eq(callvalue(), ${UPDATE_MARK}), eq(selfbalance(), ${UPDATE_MARK})), and(and(${param('embedded')}, eq(shr(224, calldataload(0)), ${sel('writeChunk')})), iszero(calldataload(4))))) { mstore(0, shl(224, ${err('UnexpectedValue')})) mstore(4, callvalue()) revert(0, 36) }
            }
            function fail1(s, a) { mstore(0, shl(224, s)) mstore(4, a) revert(0, 36) }
            function fail2(s, a, b) { mstore(0, shl(224, s)) mstore(4, a) mstore(36, b) revert(0, 68) }
            /// slot 0 stays empty until the first ownership transfer: until then the owner is the initial owner (appended by the model)
            function owner() -> o {
                o := sload(0)
                if iszero(o) { o := calldataload(sub(calldatasize(), 32)) }
            }
            function onlyOwner() { if iszero(eq(caller(), owner())) { fail1(${err('NotOwner')}, caller()) } }
            function ret(v) { mstore(0, v) return(0, 32) }
            function mask() -> m {
                if or(${param('embedded')}, eq(${param('kind')}, 1)) {
                    m := or(shl(160, 1), shl(248, 1))
                    if ${param('embedded')} { m := or(m, shl(224, ${param('chunks')})) }
                }
            }
            /// the state word, as predict reads it: a model with embedded weights and no wei reads none (its weights
            /// are the embedded ones, see the update mark), and neither do its getters, whatever slot 2 holds
            function state() -> st {
                st := mask()
                if iszero(and(${param('embedded')}, iszero(selfbalance()))) { st := xor(sload(2), st) }
            }
            /// a \`bytes\` argument whose offset word sits at calldata position \`at\` (the two appended words are not arguments)
            function bytesArg(at) -> off, len {
                off := add(4, calldataload(at))
                len := calldataload(off)
                off := add(off, 32)
                // len is bounded first, so add(off, len) cannot wrap around 2^256
                let end := sub(calldatasize(), 96)
                if or(gt(len, end), gt(add(off, len), end)) { mstore(0, shl(224, ${err('BadCalldata')})) revert(0, 4) }
            }
            function chunkLen(i) -> len {
                len := ${param('chunkSize')}
                if eq(i, sub(${param('chunks')}, 1)) { len := ${param('lastChunk')} }
            }
            /// once an upload of several chunks is complete, the state word holds the address of its table
            /// (a data contract of every chunk's address, 20 bytes each): inference finds them with one SLOAD, and
            /// so does everything here (the commitment, chunkAddress): one source of truth. Slots 3.. (chunk i ≥ 1's
            /// address) only serve an upload in progress, which writes each before it builds the table from them
            function chunk(i, st) -> a {
                switch and(iszero(iszero(shr(248, st))), gt(${param('chunks')}, 1))
                case 0 {
                    a := and(st, ${ADDR})
                    if i { a := sload(add(2, i)) }
                }
                default {
                    mstore(0, 0)
                    extcodecopy(and(st, ${ADDR}), 12, add(1, mul(i, 20)), 20)
                    a := mload(0)
                }
            }
            /// keccak256 of the canonical weight encoding, read back from wherever it lives (p: scratch memory)
            function weightsHash(st, p) -> c {
                let n := ${param('blobLength')}
                switch ${param('kind')}
                case 1 { c := calldataload(sub(calldatasize(), 64)) }
                case 2 {
                    for { let w := 0 } lt(shl(5, w), n) { w := add(w, 1) } { mstore(add(p, shl(5, w)), sload(add(${STORAGE_BASE}, w))) }
                    c := keccak256(p, n)
                }
                default {
                    let src := and(st, ${ADDR})
                    switch or(iszero(src), ${param('forwards')})
                    case 1 {
                        // not updated yet: the weights embedded in the model's own code, its last blobLength bytes
                        // (no commitment constant in every model: 33 bytes of code, ~7k gas of deploy; a model
                        // embeds only blobs of more than 32 bytes, which solc puts there). A forwarding model holds
                        // lane words, not the blob: it hands its commitment over (top bit set, shifted right by one,
                        // the dropped bit in PARAMS); once updated, the kernel contract's last blobLength bytes
                        switch src
                        case 0 {
                            switch ${param('forwards')}
                            case 0 { extcodecopy(address(), p, sub(extcodesize(address()), n), n) c := keccak256(p, n) }
                            default { c := or(shl(1, calldataload(sub(calldatasize(), 64))), ${param('commitBit')}) }
                        }
                        default { extcodecopy(src, p, sub(extcodesize(src), n), n) c := keccak256(p, n) }
                    }
                    default {
                        let end := p
                        for { let i := 0 } lt(i, ${param('chunks')}) { i := add(i, 1) } {
                            let len := chunkLen(i)
                            extcodecopy(chunk(i, st), end, 1, len)
                            end := add(end, len)
                        }
                        c := keccak256(p, n)
                    }
                }
            }

            switch shr(224, calldataload(0))
            case ${sel('writeChunk')} {
                // chunk 0 starts an update: inference stops (NotReady) until the last chunk lands. Every chunk
                // names the commitment of the whole upload it belongs to: chunk 0 records its first 4 bytes (the
                // upload tag, in the state word: no extra SSTORE) and a later chunk with another tag is refused
                // (UploadInterleaved); the last chunk is refused unless the weights on chain then hash to the
                // full commitment (CommitmentMismatch), so chunks of two interleaved uploads never go live.
                onlyOwner()
                // the update mark: a model with embedded weights skips reading its state word while its balance
                // is 0 (then it has never been updated), and so do the getters (state()). So no chunk lands while
                // the balance is 0: chunk 0 of the first update carries the mark (exactly ${UPDATE_MARK} wei, the only wei
                // taken: see the top), later updates carry none, and no code here or in the model ever sends wei
                // out (no CALL with value, no SELFDESTRUCT): the mark cannot be undone. Wei forced in by others
                // only sends predict down the (always correct) state-reading path.
                if and(${param('embedded')}, iszero(selfbalance())) { mstore(0, shl(224, ${err('UpdateNotMarked')})) revert(0, 4) }
                let index := calldataload(4)
                let off, len := bytesArg(36)
                let expectedCommitment := calldataload(68)
                let st := state()
                let chunks := ${param('chunks')}
                let written := and(shr(224, st), 0xffffff)
                if or(iszero(lt(index, chunks)), and(iszero(iszero(index)), iszero(eq(index, written)))) { fail2(${err('ChunkOutOfOrder')}, index, written) }
                let tag := shr(224, expectedCommitment)
                let started := and(shr(192, st), 0xffffffff)
                if and(iszero(iszero(index)), iszero(eq(tag, started))) { fail2(${err('UploadInterleaved')}, shl(224, started), shl(224, tag)) }
                let expected := chunkLen(index)
                // a forwarding model's update is one kernel contract, as long as its code is (EIP-170 bounds it)
                if ${param('forwards')} { expected := len }
                if iszero(eq(len, expected)) {
                    mstore(0, shl(224, ${err('BadChunkLength')})) mstore(4, index) mstore(36, len) mstore(68, expected) revert(0, 100)
                }
                let a := 0
                switch ${param('kind')}
                case 1 { mstore(0, shl(224, ${err('Immutable')})) revert(0, 4) }
                case 2 {
                    // packed storage: chunk i fills words [i·chunkSize/32, …) from STORAGE_BASE, updated in place
                    let slot := add(${STORAGE_BASE}, mul(index, shr(5, ${param('chunkSize')})))
                    for { let w := 0 } lt(shl(5, w), len) { w := add(w, 1) } { sstore(add(slot, w), calldataload(add(off, shl(5, w)))) }
                }
                default {
                    // SSTORE2 creation code: returns STOP ++ data as the new contract's code; a forwarding model's
                    // kernel contract: the data as it is (runnable code, which verify compares with a fresh compile)
                    mstore(0x80, or(0x61000080600a3d393df300, shl(0x40, add(len, 1))))
                    calldatacopy(0xa0, off, len)
                    switch ${param('forwards')}
                    case 0 { a := create(0, 0x95, add(len, 0x0b)) }
                    default {
                        mstore(0x80, or(0x61000080600a3d393df3, shl(0x38, len)))
                        a := create(0, 0x96, add(len, 0x0a))
                    }
                    if iszero(a) { fail1(${err('DataDeployFailed')}, index) }
                    if index { sstore(add(2, index), a) }
                }
                let version := and(shr(160, st), 0xffffffff)
                switch index
                case 0 { st := or(or(a, shl(160, version)), shl(192, tag)) }
                default { st := and(st, not(shl(248, 1))) }
                st := or(and(st, not(shl(224, 0xffffff))), shl(224, add(index, 1)))
                if eq(add(index, 1), chunks) {
                    // a checked increment: a state word preset to version 2^32−1 (a forged constructor) would carry into the tag
                    if eq(version, 0xffffffff) { fail1(${err('VersionOverflow')}, version) }
                    version := add(version, 1)
                    if and(gt(chunks, 1), iszero(eq(${param('kind')}, 2))) {
                        // the address table: STOP ++ the addresses of chunk 0 … chunk n−1, 20 bytes each
                        mstore(0xa0, shl(96, and(st, ${ADDR})))
                        for { let i := 1 } lt(i, chunks) { i := add(i, 1) } { mstore(add(0xa0, mul(i, 20)), shl(96, sload(add(2, i)))) }
                        let tlen := mul(chunks, 20)
                        mstore(0x80, or(0x61000080600a3d393df300, shl(0x40, add(tlen, 1))))
                        let table := create(0, 0x95, add(tlen, 0x0b))
                        if iszero(table) { fail1(${err('DataDeployFailed')}, chunks) }
                        st := or(and(st, not(${ADDR})), table)
                    }
                    st := or(or(and(st, ${ADDR}), or(shl(160, version), shl(192, tag))), or(shl(224, chunks), shl(248, 1)))
                    let c := weightsHash(st, 0x80)
                    if iszero(eq(c, expectedCommitment)) { fail2(${err('CommitmentMismatch')}, expectedCommitment, c) }
                    mstore(0, version)
                    mstore(32, c)
                    log1(0, 64, ${ev('ModelUpdated')})
                }
                sstore(2, xor(st, mask()))
                return(0, 0)
            }
            case ${sel('commitment')} {
                // zero while an upload is incomplete (the chunks are not all there to hash)
                let st := state()
                if iszero(shr(248, st)) { ret(0) }
                ret(weightsHash(st, 0x80))
            }
            case ${sel('version')} { ret(and(shr(160, state()), 0xffffffff)) }
            case ${sel('ready')} { ret(shr(248, state())) }
            case ${sel('chunksWritten')} { ret(and(shr(224, state()), 0xffffff)) }
            case ${sel('chunkAddress')} { ret(chunk(calldataload(4), state())) }
            case ${sel('info')} {
                mstore(0, ${param('inputs')}) mstore(32, ${param('outputs')}) mstore(64, exp(${param('scaleBase')}, ${param('scaleExp')}))
                mstore(96, ${param('rowBytes')}) mstore(128, ${param('outputBytes')}) mstore(160, ${param('chunks')})
                return(0, 192)
            }
            case ${sel('owner')} { ret(owner()) }
            case ${sel('pendingOwner')} { ret(sload(1)) }
            case ${sel('transferOwnership')} {
                onlyOwner()
                let to := calldataload(4)
                if shr(160, to) { mstore(0, shl(224, ${err('BadCalldata')})) revert(0, 4) }
                sstore(1, to)
                log3(0, 0, ${ev('OwnershipTransferStarted')}, caller(), to)
                return(0, 0)
            }
            case ${sel('acceptOwnership')} {
                if iszero(eq(caller(), sload(1))) { fail1(${err('NotPendingOwner')}, caller()) }
                log3(0, 0, ${ev('OwnershipTransferred')}, owner(), caller())
                sstore(0, caller())
                sstore(1, 0)
                return(0, 0)
            }
            default { fail1(${err('UnknownFunction')}, shl(224, shr(224, calldataload(0)))) }
        }
    }
}
`
}

/** `runtime` has its immutable (its own address) zeroed, as solc emits it; `codeHash` is runtimeCodeHash of it. */
export type AdminLibrary = { source: string; initcode: Hex; runtime: Hex; immutables: { start: number; length: number }[]; codeHash: Hex; address: Hex; salt: Hex }

let cached: AdminLibrary | undefined

/**
 * The library's source (or, in a test, a forged variant of it) compiled as ml2sc builds it: for ADMIN_LIBRARY_EVM,
 * with solc's default optimizer steps (its bytes, and so its CREATE2 address, depend on both).
 */
export function compileAdminLibrary(source: string = adminLibrarySolidity()): CompiledContract {
  return compileSolidity(source, 'Ml2scAdmin', { evmVersion: ADMIN_LIBRARY_EVM, optimizer: SOLC_DEFAULT_OPTIMIZER })
}

/** The solc standard-JSON input that rebuilds the library's exact bytes (the compile stage writes it beside the model's). */
export const adminLibraryInput = () => solcStandardInput(adminLibrarySolidity(), 'Ml2scAdmin.sol', ADMIN_LIBRARY_EVM, SOLC_DEFAULT_OPTIMIZER)

/** The library compiled with solc-js (deterministic: fixed compiler, settings and EVM) and its CREATE2 address. */
export function adminLibrary(): AdminLibrary {
  if (cached) return cached
  const source = adminLibrarySolidity()
  // the committed build when it is this source's (no solc to load), else compiled here
  const c = committedAdminBuild(source, ADMIN_LIBRARY_EVM) ?? compileAdminLibrary(source)
  const address = getContractAddress({ opcode: 'CREATE2', from: CREATE2_FACTORY, salt: SALT, bytecode: c.bytecode })
  cached = { source, initcode: c.bytecode, runtime: c.deployedBytecode, immutables: c.immutables, codeHash: runtimeCodeHash(c.deployedBytecode, c.immutables), address, salt: SALT }
  return cached
}

/** The transaction that deploys the library: salt ++ initcode, to the CREATE2 deployment proxy. */
export const ADMIN_DEPLOY_LABEL = 'deploy the ml2sc admin library'
export const adminDeployTx = (lib: AdminLibrary): { to: Hex; data: Hex } => ({ to: CREATE2_FACTORY, data: concat([lib.salt, lib.initcode]) })
