import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { getAddress, keccak256, toHex } from 'viem'
import { encodeRow, packRowWords, packRows } from '../../fixed/encodeRows.ts'
import { simulate } from '../../fixed/simulate.ts'
import type { Plan } from '../../fixed/types.ts'
import { writeAtomic } from '../../files/writeAtomic.ts'
import { ML2SC_VERSION, solcPackageVersion } from '../../version.ts'
import { predictSignature } from '../admin/abiSignatures.ts'
import { adminLibrary, CREATE2_FACTORY, UPDATE_MARK } from '../admin/adminLibrary.ts'
import { chunkSizes, MAX_CHUNK } from '../weights/weightBlob.ts'
import { clientTest } from './clientTests.ts'
import { clientName, generateClient } from './generateClient.ts'
import { toE18 } from '../../fixed/e18.ts'
import type { Task } from '../../ir/types.ts'

/** A test vector: quantised inputs (ml2sc's own encoding), the simulator's outputs, and the features in 1e18 (for the client). */
export type FoundryVector = { input: bigint[]; output: bigint[]; features?: bigint[] }

export type ExportFoundryOptions = {
  /** The Foundry project folder (created if needed; the files below are overwritten). */
  dir: string
  /** The generated model contract, exactly as `generate` wrote it. */
  solidity: string
  contractName: string
  plan: Plan
  /** Test vectors: quantised inputs (2^F) and the bit-exact simulator's outputs for them. */
  vectors: FoundryVector[]
  /** The canonical weight blob (its keccak256 is the model commitment). */
  blob: Uint8Array
  /** Bytes per writeChunk call; must be the chunk size the contract was generated with. Default 24,575. */
  chunkSize?: number
  /** solc version for foundry.toml; default: the solc-js version ml2sc compiles with. */
  solcVersion?: string
  /** EVM version; default prague. */
  evmVersion?: string
  /** The contract embeds its initial weights (datacontract layout): its first update's chunk 0 carries the 1-wei update mark. Default: read from `solidity`. */
  embedded?: boolean
  /**
   * What setUp writes with writeChunk, in chunks (default: `blob` in chunks of `chunkSize`). A forwarding
   * model (forwardingModel.ts) takes its weights as a kernel contract: runtime ++ blob, one chunk (updatePayload).
   */
  update?: { data: Uint8Array; sizes: number[] }
  /** The model's fixed owner (`chain.owner`), if it has one: setUp then writes the chunks as that account (forge's vm.startPrank). */
  owner?: string
  /** What the outputs mean: when given, the project also has the client library (src/<Contract>Client.sol) and its tests. */
  task?: Task
}

/** Up to `max` test vectors from rows of float features: rows outside the safe input range are skipped. */
export function foundryVectors(plan: Plan, rows: number[][], max = 20): FoundryVector[] {
  const out: FoundryVector[] = []
  for (const features of rows) {
    if (out.length >= max) break
    const e = encodeRow(plan, features)
    if (e.ok) out.push({ input: e.values, output: simulate(plan, e.values), features: features.map(toE18) })
  }
  return out
}

/** The solc-js package's version (what it compiles as), as forge's `solc` setting: 0.8.37 if it cannot be read. */
function defaultSolcVersion(): string {
  try {
    return /^(\d+\.\d+\.\d+)/.exec(solcPackageVersion())?.[1] ?? '0.8.37'
  } catch {
    return '0.8.37'
  }
}

const hexBody = (b: Uint8Array) => toHex(b).slice(2)
/** A forwarding model's source says so by its forward to the kernel contract its state word names (forwardingModel.ts). */
const FORWARD_MARK = 'delegatecall(gas(), st, 0, calldatasize(), 0, 0)'

/** An int256 as a Solidity literal (type(int256).min has no positive counterpart, so spell it). */
const intLit = (v: bigint) => (v === -(1n << 255n) ? 'type(int256).min' : v.toString())

/**
 * Write a Foundry project that tests the generated contract against ml2sc's simulator: `forge test`
 * deploys the model, writes the weights chunk by chunk with `writeChunk(i, bytes, commitment)`, checks the on-chain
 * commitment, and asserts that `predict(row)` returns exactly the simulator's outputs for every vector.
 * The test needs no forge-std (plain `require` and custom errors), so `forge test` runs with no install.
 */
export async function exportFoundry(opts: ExportFoundryOptions): Promise<void> {
  const { dir, contractName: C, plan, vectors, blob } = opts
  if (!/^[A-Za-z_]\w*$/.test(C)) throw new Error(`not a Solidity identifier: ${C}`)
  const chunkSize = Math.min(opts.chunkSize ?? MAX_CHUNK, MAX_CHUNK)
  const forwarding = opts.solidity.includes(FORWARD_MARK)
  if (forwarding && !opts.update) throw new Error(`${C} is a forwarding model: its Foundry export writes its weights as a kernel contract (pass \`update\`: updatePayload)`)
  const data = opts.update?.data ?? blob
  const sizes = opts.update?.sizes ?? chunkSizes(blob.length, chunkSize)
  const solc = opts.solcVersion ?? defaultSolcVersion()
  const evm = opts.evmVersion ?? 'prague'
  const commitment = keccak256(toHex(blob))
  const I = `I${C}UnderTest`
  const rowWords = Math.ceil((plan.inputSize * plan.inputBytes) / 32)
  const lib = adminLibrary()

  // (default: the generated source says so, by its WEIGHTS constant)
  const embedded = opts.embedded ?? (forwarding || /bytes internal constant WEIGHTS = hex"/.test(opts.solidity))
  let at = 0
  const writes = sizes.map((len, i) => {
    const chunk = data.subarray(at, at + len)
    at += len
    // chunk 0 carries the update mark (1 wei) while a model with embedded weights holds none, as `ml2sc update`
    // sends it (a model without embedded weights refuses wei). Each chunk goes through a memory variable: solc
    // copies the literal from code, where a literal written straight into the call's arguments is encoded word by word
    // (about twice the compile time of the whole test file)
    const call = i === 0 && embedded ? `model.writeChunk{value: address(model).balance == 0 ? ${UPDATE_MARK} : 0}(0, chunk, COMMITMENT);` : `model.writeChunk(${i}, chunk, COMMITMENT);`
    return `        chunk = hex"${hexBody(chunk)}";\n        ${call}`
  })

  const vectorTests = vectors.map((v, i) => {
    if (v.input.length !== plan.inputSize || v.output.length !== plan.outputSize)
      throw new Error(`vector ${i}: ${v.input.length} inputs and ${v.output.length} outputs, the model has ${plan.inputSize} and ${plan.outputSize}`)
    return `    /// inputs (2^${plan.F}): [${v.input.join(', ')}]
    function test_vector_${i}() public view {
        int256[] memory want = new int256[](${v.output.length});
${v.output.map((o, j) => `        want[${j}] = ${intLit(o)};`).join('\n')}
        _check(${i}, [${packRowWords(plan, v.input).map((w) => `bytes32(${w})`).join(', ')}], want);
    }`
  })

  const batch = vectors.length
    ? (() => {
        const rows = packRows(plan, vectors.map((v) => v.input)).slice(2)
        const outs = vectors.flatMap((v) => v.output.map((o) => BigInt.asUintN(8 * plan.outputBytes, o).toString(16).padStart(2 * plan.outputBytes, '0'))).join('')
        return `
    /// Every vector in one predictBatch call: outputs packed as int${8 * plan.outputBytes}, ${plan.outputSize} per row.
    function test_predictBatch() public {
        bytes memory got = model.predictBatch(hex"${rows}");
        require(keccak256(got) == keccak256(hex"${outs}"), "predictBatch differs from the simulator");
    }
`
      })()
    : ''

  const test = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// Generated by ml2sc ${ML2SC_VERSION}: \`forge test\` checks ${C} against ml2sc's bit-exact simulator.
// No forge-std needed: a failed check reverts, and forge reports the test as failed.

import {${C}} from "../src/${C}.sol";

/// The part of the model's interface these tests use.
interface ${I} {
    function writeChunk(uint256 index, bytes calldata data, bytes32 commitment) external payable;
    ${predictSignature(plan.inputSize * plan.inputBytes)};
    function predictBatch(bytes calldata rows) external returns (bytes memory outputs);
    function ready() external view returns (bool);
    function commitment() external view returns (bytes32);
}

/// Deploys the model and uploads its weights (setUp): the base of this file's tests and of the client's.
abstract contract ${C}Deploy {
    /// keccak256 of the canonical weight encoding (${blob.length} bytes in ${sizes.length} chunk(s)).
    bytes32 internal constant COMMITMENT = ${commitment};

    ${I} internal model;

    /// ml2sc's shared admin library (src/Ml2scAdmin.sol), which the model DELEGATECALLs for everything but
    /// inference: its exact bytes as ml2sc compiled them, so that CREATE2 puts it where the model expects it.
    address internal constant ADMIN = ${lib.address};
    address internal constant CREATE2_FACTORY = ${getAddress(CREATE2_FACTORY)};
    bytes internal constant ADMIN_INITCODE = hex"${lib.initcode.slice(2)}";
    bytes internal constant ADMIN_RUNTIME = hex"${lib.runtime.slice(2)}";

    /// Deploy the admin library (once per chain) and the model, then upload the weights chunk by chunk, as \`ml2sc upload\` does.
    function setUp() public virtual {
        if (ADMIN.code.length == 0) {
            (bool ok, ) = CREATE2_FACTORY.call(abi.encodePacked(bytes32(${lib.salt}), ADMIN_INITCODE));
            // no deployment proxy on this test chain: place the code with forge's vm.etch cheatcode instead
            if (!ok || ADMIN.code.length == 0) {
                (ok, ) = address(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D).call(abi.encodeWithSignature("etch(address,bytes)", ADMIN, ADMIN_RUNTIME));
            }
            require(ADMIN.code.length != 0, "could not place ml2sc's admin library");
        }
        model = ${I}(address(new ${C}()));${opts.owner ? `
        // the model belongs to chain.owner (${getAddress(opts.owner)}), not to this contract: write as that account
        (bool pranked, ) = address(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D).call(abi.encodeWithSignature("startPrank(address)", ${getAddress(opts.owner)}));
        require(pranked, "vm.startPrank failed: run this test with forge");
        // and give it the wei of the update mark (vm.deal)
        (pranked, ) = address(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D).call(abi.encodeWithSignature("deal(address,uint256)", ${getAddress(opts.owner)}, ${UPDATE_MARK}));` : ''}
        bytes memory chunk;
${writes.join('\n')}${opts.owner ? `
        (pranked, ) = address(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D).call(abi.encodeWithSignature("stopPrank()"));` : ''}
        require(model.ready(), "the model is not ready after its last chunk");
    }
}

contract ${C}Test is ${C}Deploy {
    error OutputMismatch(uint256 vector, uint256 output, int256 got, int256 expected);
    error OutputCount(uint256 vector, uint256 got, uint256 expected);

    function test_commitment() public view {
        require(model.commitment() == COMMITMENT, "the on-chain commitment differs from keccak256 of the weights");
    }

    function test_rejectsBadRowLength() public view {
        // predict takes exactly ${rowWords} word(s): one more byte of call data is refused (BadCalldata)
        (bool ok, ) = address(model).staticcall(abi.encodePacked(model.predict.selector, new bytes(${32 * rowWords + 1})));
        require(!ok, "a row of the wrong length was accepted");
    }
${batch}
${vectorTests.join('\n\n')}

    function _check(uint256 vector, bytes32[${rowWords}] memory row, int256[] memory want) internal view {
        int256[] memory got = model.predict(row);
        if (got.length != want.length) revert OutputCount(vector, got.length, want.length);
        for (uint256 j = 0; j < want.length; j++) {
            if (got[j] != want[j]) revert OutputMismatch(vector, j, got[j], want[j]);
        }
    }
}
`

  const toml = `# Generated by ml2sc ${ML2SC_VERSION}. The same compiler settings ml2sc uses (legacy pipeline, optimizer on).
[profile.default]
src = "src"
test = "test"
out = "out"
libs = ["lib"]
solc_version = "${solc}"
evm_version = "${evm}"
optimizer = true
optimizer_runs = 200
via_ir = false
# as ml2sc compiles: no CBOR metadata trailer (53 bytes of code that nothing on chain reads)
cbor_metadata = false
bytecode_hash = "none"

# as ml2sc compiles: the Yul optimizer hoists the unrolled kernels' repeated subexpressions into stack
# slots ("stack too deep"), so it stays off for the inline assembly; the constant optimizer stays off too
# (it trades a few gas per use of a constant for code bytes)
[profile.default.optimizer_details]
yul = false
constantOptimizer = false
`

  const readme = `# ${C}: Foundry project

Generated by ml2sc ${ML2SC_VERSION} (\`ml2sc generate --foundry\`). It needs nothing but Foundry:

\`\`\`sh
forge test
\`\`\`

- \`src/Ml2scAdmin.sol\`: ml2sc's shared admin library (ownership, uploads, getters), which the model DELEGATECALLs;
  \`setUp\` places its exact compiled bytes at ${lib.address} through the CREATE2 deployment proxy.
- \`src/${C}.sol\`: the model contract, exactly as ml2sc generated it (${plan.inputSize} inputs, ${plan.outputSize} outputs,
  activations at scale 2^${plan.F}, inputs packed as int${8 * plan.inputBytes} in calldata).
- \`test/${C}.t.sol\`: \`setUp\` deploys the model and writes its ${blob.length} bytes of weights in ${sizes.length}
  \`writeChunk\` call(s). Then:
  - \`test_commitment\`: the on-chain commitment equals keccak256 of the weights (\`${commitment}\`);
  - \`test_vector_N\` (${vectors.length}): \`predict(row)\` returns exactly the outputs of ml2sc's bit-exact simulator;
  - \`test_predictBatch\`: all vectors in one \`predictBatch\` call, same outputs;
  - \`test_rejectsBadRowLength\`: a row of the wrong length reverts.
- \`src/${C}Client.sol\` and \`test/${C}Client.t.sol\` (when written): the library another contract calls the model through, in
  1e18 units (\`predict\`, \`predictClass\`, \`requireModel\`), and its tests against the simulator, the range check included.
- \`foundry.toml\`: solc ${solc}, evm ${evm}, optimizer on (200 runs) with the Yul and constant optimizers off, legacy pipeline (no via-IR), as ml2sc compiles.

The tests use no forge-std: a failed check reverts with a custom error (\`OutputMismatch(vector, output, got, expected)\`).
Outputs are raw fixed-point integers: divide by 2^${plan.F} for the model's values.
`

  await mkdir(path.join(dir, 'src'), { recursive: true })
  await mkdir(path.join(dir, 'test'), { recursive: true })
  await writeAtomic(path.join(dir, 'foundry.toml'), toml)
  await writeAtomic(path.join(dir, 'src', `${C}.sol`), opts.solidity)
  await writeAtomic(path.join(dir, 'src', 'Ml2scAdmin.sol'), lib.source)
  await writeAtomic(path.join(dir, 'test', `${C}.t.sol`), test)
  if (opts.task) {
    const L = clientName(C)
    const clientVectors = vectors.flatMap((v) => (v.features ? [{ features: v.features }] : []))
    await writeAtomic(path.join(dir, 'src', `${L}.sol`), generateClient(plan, { contractName: C, task: opts.task, commitment }))
    await writeAtomic(path.join(dir, 'test', `${L}.t.sol`), clientTest(plan, { contractName: C, task: opts.task, vectors: clientVectors }))
  }
  await writeAtomic(path.join(dir, 'README.md'), readme)
  await writeAtomic(path.join(dir, '.gitignore'), 'out/\ncache/\n')
}
