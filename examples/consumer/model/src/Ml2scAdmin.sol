// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// ml2sc 0.1.0 shared admin library. Model contracts DELEGATECALL it for everything but inference,
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
            // wei is taken only as the update mark: exactly 1 wei, with chunk 0 (writeChunk(0, …)) of a model whose
            // weights are in its code (embedded) and whose balance was 0 before this call. Any other wei would stay here
            // for good (nothing ever sends it out) and mean nothing: refused
            if callvalue() {
                if iszero(and(and(eq(callvalue(), 1), eq(selfbalance(), 1)), and(and(and(shr(8, calldataload(sub(calldatasize(), 96))), 0xff), eq(shr(224, calldataload(0)), 0xda1a8ccd)), iszero(calldataload(4))))) { mstore(0, shl(224, 0x4fbe3465)) mstore(4, callvalue()) revert(0, 36) }
            }
            function fail1(s, a) { mstore(0, shl(224, s)) mstore(4, a) revert(0, 36) }
            function fail2(s, a, b) { mstore(0, shl(224, s)) mstore(4, a) mstore(36, b) revert(0, 68) }
            /// slot 0 stays empty until the first ownership transfer: until then the owner is the initial owner (appended by the model)
            function owner() -> o {
                o := sload(0)
                if iszero(o) { o := calldataload(sub(calldatasize(), 32)) }
            }
            function onlyOwner() { if iszero(eq(caller(), owner())) { fail1(0x245aecd3, caller()) } }
            function ret(v) { mstore(0, v) return(0, 32) }
            function mask() -> m {
                if or(and(shr(8, calldataload(sub(calldatasize(), 96))), 0xff), eq(and(shr(0, calldataload(sub(calldatasize(), 96))), 0xf), 1)) {
                    m := or(shl(160, 1), shl(248, 1))
                    if and(shr(8, calldataload(sub(calldatasize(), 96))), 0xff) { m := or(m, shl(224, and(shr(24, calldataload(sub(calldatasize(), 96))), 0xffff))) }
                }
            }
            /// the state word, as predict reads it: a model with embedded weights and no wei reads none (its weights
            /// are the embedded ones, see the update mark), and neither do its getters, whatever slot 2 holds
            function state() -> st {
                st := mask()
                if iszero(and(and(shr(8, calldataload(sub(calldatasize(), 96))), 0xff), iszero(selfbalance()))) { st := xor(sload(2), st) }
            }
            /// a `bytes` argument whose offset word sits at calldata position `at` (the two appended words are not arguments)
            function bytesArg(at) -> off, len {
                off := add(4, calldataload(at))
                len := calldataload(off)
                off := add(off, 32)
                // len is bounded first, so add(off, len) cannot wrap around 2^256
                let end := sub(calldatasize(), 96)
                if or(gt(len, end), gt(add(off, len), end)) { mstore(0, shl(224, 0x1a2e1594)) revert(0, 4) }
            }
            function chunkLen(i) -> len {
                len := and(shr(40, calldataload(sub(calldatasize(), 96))), 0xffffff)
                if eq(i, sub(and(shr(24, calldataload(sub(calldatasize(), 96))), 0xffff), 1)) { len := and(shr(64, calldataload(sub(calldatasize(), 96))), 0xffffff) }
            }
            /// once an upload of several chunks is complete, the state word holds the address of its table
            /// (a data contract of every chunk's address, 20 bytes each): inference finds them with one SLOAD, and
            /// so does everything here (the commitment, chunkAddress): one source of truth. Slots 3.. (chunk i ≥ 1's
            /// address) only serve an upload in progress, which writes each before it builds the table from them
            function chunk(i, st) -> a {
                switch and(iszero(iszero(shr(248, st))), gt(and(shr(24, calldataload(sub(calldatasize(), 96))), 0xffff), 1))
                case 0 {
                    a := and(st, 0xffffffffffffffffffffffffffffffffffffffff)
                    if i { a := sload(add(2, i)) }
                }
                default {
                    mstore(0, 0)
                    extcodecopy(and(st, 0xffffffffffffffffffffffffffffffffffffffff), 12, add(1, mul(i, 20)), 20)
                    a := mload(0)
                }
            }
            /// keccak256 of the canonical weight encoding, read back from wherever it lives (p: scratch memory)
            function weightsHash(st, p) -> c {
                let n := and(shr(88, calldataload(sub(calldatasize(), 96))), 0xffffffff)
                switch and(shr(0, calldataload(sub(calldatasize(), 96))), 0xf)
                case 1 { c := calldataload(sub(calldatasize(), 64)) }
                case 2 {
                    for { let w := 0 } lt(shl(5, w), n) { w := add(w, 1) } { mstore(add(p, shl(5, w)), sload(add(65536, w))) }
                    c := keccak256(p, n)
                }
                default {
                    let src := and(st, 0xffffffffffffffffffffffffffffffffffffffff)
                    switch or(iszero(src), and(shr(4, calldataload(sub(calldatasize(), 96))), 0xf))
                    case 1 {
                        // not updated yet: the weights embedded in the model's own code, its last blobLength bytes
                        // (no commitment constant in every model: 33 bytes of code, ~7k gas of deploy; a model
                        // embeds only blobs of more than 32 bytes, which solc puts there). A forwarding model holds
                        // lane words, not the blob: it hands its commitment over (top bit set, shifted right by one,
                        // the dropped bit in PARAMS); once updated, the kernel contract's last blobLength bytes
                        switch src
                        case 0 {
                            switch and(shr(4, calldataload(sub(calldatasize(), 96))), 0xf)
                            case 0 { extcodecopy(address(), p, sub(extcodesize(address()), n), n) c := keccak256(p, n) }
                            default { c := or(shl(1, calldataload(sub(calldatasize(), 64))), and(shr(16, calldataload(sub(calldatasize(), 96))), 0xff)) }
                        }
                        default { extcodecopy(src, p, sub(extcodesize(src), n), n) c := keccak256(p, n) }
                    }
                    default {
                        let end := p
                        for { let i := 0 } lt(i, and(shr(24, calldataload(sub(calldatasize(), 96))), 0xffff)) { i := add(i, 1) } {
                            let len := chunkLen(i)
                            extcodecopy(chunk(i, st), end, 1, len)
                            end := add(end, len)
                        }
                        c := keccak256(p, n)
                    }
                }
            }

            switch shr(224, calldataload(0))
            case 0xda1a8ccd {
                // chunk 0 starts an update: inference stops (NotReady) until the last chunk lands. Every chunk
                // names the commitment of the whole upload it belongs to: chunk 0 records its first 4 bytes (the
                // upload tag, in the state word: no extra SSTORE) and a later chunk with another tag is refused
                // (UploadInterleaved); the last chunk is refused unless the weights on chain then hash to the
                // full commitment (CommitmentMismatch), so chunks of two interleaved uploads never go live.
                onlyOwner()
                // the update mark: a model with embedded weights skips reading its state word while its balance
                // is 0 (then it has never been updated), and so do the getters (state()). So no chunk lands while
                // the balance is 0: chunk 0 of the first update carries the mark (exactly 1 wei, the only wei
                // taken: see the top), later updates carry none, and no code here or in the model ever sends wei
                // out (no CALL with value, no SELFDESTRUCT): the mark cannot be undone. Wei forced in by others
                // only sends predict down the (always correct) state-reading path.
                if and(and(shr(8, calldataload(sub(calldatasize(), 96))), 0xff), iszero(selfbalance())) { mstore(0, shl(224, 0xdab15ce1)) revert(0, 4) }
                let index := calldataload(4)
                let off, len := bytesArg(36)
                let expectedCommitment := calldataload(68)
                let st := state()
                let chunks := and(shr(24, calldataload(sub(calldatasize(), 96))), 0xffff)
                let written := and(shr(224, st), 0xffffff)
                if or(iszero(lt(index, chunks)), and(iszero(iszero(index)), iszero(eq(index, written)))) { fail2(0xe889b024, index, written) }
                let tag := shr(224, expectedCommitment)
                let started := and(shr(192, st), 0xffffffff)
                if and(iszero(iszero(index)), iszero(eq(tag, started))) { fail2(0xb723597d, shl(224, started), shl(224, tag)) }
                let expected := chunkLen(index)
                // a forwarding model's update is one kernel contract, as long as its code is (EIP-170 bounds it)
                if and(shr(4, calldataload(sub(calldatasize(), 96))), 0xf) { expected := len }
                if iszero(eq(len, expected)) {
                    mstore(0, shl(224, 0x63c12378)) mstore(4, index) mstore(36, len) mstore(68, expected) revert(0, 100)
                }
                let a := 0
                switch and(shr(0, calldataload(sub(calldatasize(), 96))), 0xf)
                case 1 { mstore(0, shl(224, 0xbb7790e6)) revert(0, 4) }
                case 2 {
                    // packed storage: chunk i fills words [i·chunkSize/32, …) from STORAGE_BASE, updated in place
                    let slot := add(65536, mul(index, shr(5, and(shr(40, calldataload(sub(calldatasize(), 96))), 0xffffff))))
                    for { let w := 0 } lt(shl(5, w), len) { w := add(w, 1) } { sstore(add(slot, w), calldataload(add(off, shl(5, w)))) }
                }
                default {
                    // SSTORE2 creation code: returns STOP ++ data as the new contract's code; a forwarding model's
                    // kernel contract: the data as it is (runnable code, which verify compares with a fresh compile)
                    mstore(0x80, or(0x61000080600a3d393df300, shl(0x40, add(len, 1))))
                    calldatacopy(0xa0, off, len)
                    switch and(shr(4, calldataload(sub(calldatasize(), 96))), 0xf)
                    case 0 { a := create(0, 0x95, add(len, 0x0b)) }
                    default {
                        mstore(0x80, or(0x61000080600a3d393df3, shl(0x38, len)))
                        a := create(0, 0x96, add(len, 0x0a))
                    }
                    if iszero(a) { fail1(0xb960b774, index) }
                    if index { sstore(add(2, index), a) }
                }
                let version := and(shr(160, st), 0xffffffff)
                switch index
                case 0 { st := or(or(a, shl(160, version)), shl(192, tag)) }
                default { st := and(st, not(shl(248, 1))) }
                st := or(and(st, not(shl(224, 0xffffff))), shl(224, add(index, 1)))
                if eq(add(index, 1), chunks) {
                    // a checked increment: a state word preset to version 2^32−1 (a forged constructor) would carry into the tag
                    if eq(version, 0xffffffff) { fail1(0xb8cb0b48, version) }
                    version := add(version, 1)
                    if and(gt(chunks, 1), iszero(eq(and(shr(0, calldataload(sub(calldatasize(), 96))), 0xf), 2))) {
                        // the address table: STOP ++ the addresses of chunk 0 … chunk n−1, 20 bytes each
                        mstore(0xa0, shl(96, and(st, 0xffffffffffffffffffffffffffffffffffffffff)))
                        for { let i := 1 } lt(i, chunks) { i := add(i, 1) } { mstore(add(0xa0, mul(i, 20)), shl(96, sload(add(2, i)))) }
                        let tlen := mul(chunks, 20)
                        mstore(0x80, or(0x61000080600a3d393df300, shl(0x40, add(tlen, 1))))
                        let table := create(0, 0x95, add(tlen, 0x0b))
                        if iszero(table) { fail1(0xb960b774, chunks) }
                        st := or(and(st, not(0xffffffffffffffffffffffffffffffffffffffff)), table)
                    }
                    st := or(or(and(st, 0xffffffffffffffffffffffffffffffffffffffff), or(shl(160, version), shl(192, tag))), or(shl(224, chunks), shl(248, 1)))
                    let c := weightsHash(st, 0x80)
                    if iszero(eq(c, expectedCommitment)) { fail2(0xc9e0e757, expectedCommitment, c) }
                    mstore(0, version)
                    mstore(32, c)
                    log1(0, 64, 0xab2432aa2cb3af83f4c816db54a48c50ab42e92028e93c322f66a76def59f425)
                }
                sstore(2, xor(st, mask()))
                return(0, 0)
            }
            case 0x1303a484 {
                // zero while an upload is incomplete (the chunks are not all there to hash)
                let st := state()
                if iszero(shr(248, st)) { ret(0) }
                ret(weightsHash(st, 0x80))
            }
            case 0x54fd4d50 { ret(and(shr(160, state()), 0xffffffff)) }
            case 0x6defbf80 { ret(shr(248, state())) }
            case 0x8f67ccab { ret(and(shr(224, state()), 0xffffff)) }
            case 0x2bfedae0 { ret(chunk(calldataload(4), state())) }
            case 0x370158ea {
                mstore(0, and(shr(120, calldataload(sub(calldatasize(), 96))), 0xffffffff)) mstore(32, and(shr(152, calldataload(sub(calldatasize(), 96))), 0xffffffff)) mstore(64, exp(and(shr(224, calldataload(sub(calldatasize(), 96))), 0xff), and(shr(232, calldataload(sub(calldatasize(), 96))), 0xff)))
                mstore(96, and(shr(184, calldataload(sub(calldatasize(), 96))), 0xffffffff)) mstore(128, and(shr(216, calldataload(sub(calldatasize(), 96))), 0xff)) mstore(160, and(shr(24, calldataload(sub(calldatasize(), 96))), 0xffff))
                return(0, 192)
            }
            case 0x8da5cb5b { ret(owner()) }
            case 0xe30c3978 { ret(sload(1)) }
            case 0xf2fde38b {
                onlyOwner()
                let to := calldataload(4)
                if shr(160, to) { mstore(0, shl(224, 0x1a2e1594)) revert(0, 4) }
                sstore(1, to)
                log3(0, 0, 0x38d16b8cac22d99fc7c124b9cd0de2d3fa1faef420bfe791d8c362d765e22700, caller(), to)
                return(0, 0)
            }
            case 0x79ba5097 {
                if iszero(eq(caller(), sload(1))) { fail1(0xa09b9a43, caller()) }
                log3(0, 0, 0x8be0079c531659141344cd1fd0a4f28419497f9722a3daafe3b4186f6b6457e0, owner(), caller())
                sstore(0, caller())
                sstore(1, 0)
                return(0, 0)
            }
            default { fail1(0x150879b0, shl(224, shr(224, calldataload(0)))) }
        }
    }
}
