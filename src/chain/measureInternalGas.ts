import { decodeAbiParameters, encodeAbiParameters, type Hex } from 'viem'
import { clientName, generateClient } from '../codegen/client/generateClient.ts'
import { compileSolidity } from '../compile/compileSolidity.ts'
import { packRowWords } from '../fixed/encodeRows.ts'
import type { Plan } from '../fixed/types.ts'
import type { Task } from '../ir/types.ts'
import type { ChainSession } from './connectChain.ts'

export type InternalGas = {
  /** predict(bytes32[K]) called from another contract: the CALL with its cold account access, the model's execution, the answer decoded. */
  predictInternal: number
  /** The same through the 1e18 client library: range checks, conversion and packing included. */
  viaClient: number
  /** (viaClient − predictInternal) / inputs: what the client's conversion costs per feature. */
  clientPerFeature: number
  /** The outputs each path returned (raw, and 1e18 through the client), for checking. */
  raw: bigint[]
  e18: bigint[]
}

/**
 * The probe: its constructor calls the model once, directly or through the client library, and returns the
 * gas used between two gasleft() readings (CALL and cold account access included, no transaction base)
 * and the outputs. It is never deployed: eth_call runs the creation code and returns what it returns,
 * so this works on any node and spends nothing.
 */
function probeSource(plan: Plan, C: string, client: string): string {
  const L = clientName(C)
  const K = Math.ceil((plan.inputSize * plan.inputBytes) / 32)
  // one source (the client, then the probe): the compile cache is keyed by it
  return `${client}
contract Ml2scInternalGasProbe {
    constructor(address model, uint8 mode, bytes32[${K}] memory row, int256[] memory features) {
        int256[] memory out;
        uint256 used;
        if (mode == 1) {
            uint256 g = gasleft();
            out = ${L}.predict(model, features);
            used = g - gasleft();
        } else if (mode == 2) {
            // the fixed-size overload (the copy into int256[${plan.inputSize}] is not measured)
            int256[${plan.inputSize}] memory fixedRow;
            for (uint256 i = 0; i < ${plan.inputSize}; i++) fixedRow[i] = features[i];
            uint256 g = gasleft();
            out = ${L}.predict(model, fixedRow);
            used = g - gasleft();
        } else {
            uint256 g = gasleft();
            out = I${C}Model(model).predict(row);
            used = g - gasleft();
        }
        bytes memory ret = abi.encode(used, out);
        assembly { return(add(ret, 32), mload(ret)) }
    }
}
`
}

export type ProbeOptions = { task: Task; hardfork?: string }
export type Probe = { bytecode: Hex; plan: Plan }

/** The names the probe's client is generated under, and the commitment it carries (no predict path reads it). */
const PROBED = 'Ml2scProbed'
const NO_COMMITMENT: Hex = `0x${'0'.repeat(64)}`

/**
 * Compile the probe for a model (the client library inside it). Its source depends only on the model's shape
 * and encodings: the client is generated under a fixed name and without the weights' commitment (neither
 * changes the code predict runs: a library's name is not in its code, and COMMITMENT is read only by
 * requireModel), so a model compiled under another name, or with other weights, shares the compile.
 */
export function internalGasProbe(plan: Plan, opts: ProbeOptions): Probe {
  const client = generateClient(plan, { contractName: PROBED, task: opts.task, commitment: NO_COMMITMENT })
  const probe = compileSolidity(probeSource(plan, PROBED, client), 'Ml2scInternalGasProbe', { hardfork: opts.hardfork, file: 'Ml2scInternalGasProbe.sol' })
  return { bytecode: probe.bytecode, plan }
}

/** How the probe calls the model: predict(bytes32[K]) directly, or the client's predict with int256[] or int256[N]. */
export type ProbeMode = 'direct' | 'client' | 'clientFixed'
const MODES: Record<ProbeMode, number> = { direct: 0, client: 1, clientFixed: 2 }

/** One probe run through eth_call: the gas the call used and the outputs (raw directly, 1e18 through the client). Reverts surface as viem errors. */
export async function runProbe(s: ChainSession, probe: Probe, model: Hex, mode: ProbeMode, row: bigint[], features: bigint[]): Promise<{ used: number; out: bigint[] }> {
  const words = packRowWords(probe.plan, row)
  const args = encodeAbiParameters([{ type: 'address' }, { type: 'uint8' }, { type: `bytes32[${words.length}]` }, { type: 'int256[]' }], [model, MODES[mode], words, features])
  const { data } = await s.publicClient.call({ account: s.account, data: `${probe.bytecode}${args.slice(2)}` as Hex })
  const [used, out] = decodeAbiParameters([{ type: 'uint256' }, { type: 'int256[]' }], data!)
  return { used: Number(used), out: [...out] }
}

/**
 * Measure on the chain what a contract pays to call the deployed model: once directly with ml2sc's
 * encoding of a row (`row`, quantised), once through the client library with the same row in 1e18
 * (`features`). Each is its own eth_call, so the model's account is cold in both.
 */
export async function measureInternalGas(
  s: ChainSession,
  model: Hex,
  plan: Plan,
  opts: ProbeOptions & { row: bigint[]; features: bigint[] },
): Promise<InternalGas> {
  const probe = internalGasProbe(plan, opts)
  const direct = await runProbe(s, probe, model, 'direct', opts.row, opts.features)
  const viaClient = await runProbe(s, probe, model, 'client', opts.row, opts.features)
  return {
    predictInternal: direct.used,
    viaClient: viaClient.used,
    clientPerFeature: Math.round((10 * (viaClient.used - direct.used)) / plan.inputSize) / 10,
    raw: direct.out,
    e18: viaClient.out,
  }
}
