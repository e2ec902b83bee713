import { encodeAbiParameters } from 'viem'
import { decodeOutputsE18, encodeRowE18 } from '../../fixed/e18.ts'
import { simulate } from '../../fixed/simulate.ts'
import { interpret } from '../../fixed/encodeRows.ts'
import type { Plan } from '../../fixed/types.ts'
import type { Task } from '../../ir/types.ts'
import { ML2SC_VERSION } from '../../version.ts'
import { clientName } from './generateClient.ts'

/** One row for the client's tests: features in 1e18 (the simulator's outputs on their encoding are computed here). */
export type ClientVector = { features: bigint[] }

/** The client's tests run on at most this many vectors (each inlines its features: test-contract code). */
export const CLIENT_VECTORS = 8

const intLit = (v: bigint) => (v === -(1n << 255n) ? 'type(int256).min' : v.toString())

/**
 * `test/<Contract>Client.t.sol`: the client library against ml2sc's simulator, in 1e18 units. It inherits the
 * model test's setUp (deploy, upload), so the model is the one the vectors were computed for. Checks:
 * predict and predictClass on each vector equal the simulator's outputs on ml2sc's encoding of the same 1e18
 * features (encodeRowE18), converted to 1e18 with the client's rounding; the fixed-size overload agrees; a feature just
 * outside the safe range reverts FeatureOutOfRange with its index, one on the boundary passes; requireModel
 * accepts the model.
 */
export function clientTest(plan: Plan, opts: { contractName: string; task: Task; vectors: ClientVector[] }): string {
  const C = opts.contractName
  const L = clientName(C)
  const N = plan.inputSize
  const classifier = opts.task !== 'regression'
  // the simulator on the client's encoding of each row (encodeRowE18: exact round-to-nearest of the 1e18 value)
  const vectors = opts.vectors
    .flatMap((v) => {
      const e = encodeRowE18(plan, v.features)
      return e.ok ? [{ features: v.features, output: simulate(plan, e.values) }] : []
    })
    .slice(0, CLIENT_VECTORS)
  // a long row is one ABI-encoded literal (its values in the comment above it): solc copies it from code, where
  // an assignment per element made these tests several times slower to compile
  const arr = (name: string, vs: bigint[]) =>
    vs.length <= 8
      ? `        int256[] memory ${name} = new int256[](${vs.length});\n${vs.map((v, j) => `        ${name}[${j}] = ${intLit(v)};`).join('\n')}`
      : `        // ${name} = [${vs.join(', ')}]\n        int256[] memory ${name} = abi.decode(hex"${encodeAbiParameters([{ type: 'int256[]' }], [vs]).slice(2)}", (int256[]));`

  const tests = vectors.map((v, i) => {
    if (v.features.length !== N) throw new Error(`client vector ${i}: ${v.features.length} features, the model has ${N}`)
    const want = decodeOutputsE18(plan, v.output)
    return `    function test_client_vector_${i}() public view {
${arr('f', v.features)}
${arr('want', want)}
        _checkE18(${i}, ${L}.predict(address(model), f), want);${classifier ? `
        require(${L}.predictClass(address(model), f) == ${classOf(plan, opts.task as 'binary' | 'multiclass', v.output)}, "predictClass differs from ml2sc's class");` : ''}${headChecks(plan, L, want, v.output)}
    }`
  })

  const first = vectors[0]
  const edge = first
    ? `
    /// A feature one unit (1e-18) outside the safe range reverts FeatureOutOfRange with its index; one on the boundary passes.
    function test_client_rangeCheck() public view {
${arr('f', first.features)}
        uint256 k = ${N - 1};
        f[k] = ${L}.FEATURE_MAX + 1;
        _expectOutOfRange(f, k);
        f[0] = ${L}.FEATURE_MIN - 1;
        _expectOutOfRange(f, 0);
        f[0] = ${L}.FEATURE_MIN;
        f[k] = ${L}.FEATURE_MAX;
        require(${L}.predict(address(model), f).length == ${L}.OUTPUTS, "a row on the boundary of the safe range failed");
    }

    /// The fixed-size overload gives the same outputs as the dynamic one.
    function test_client_fixedSize() public view {
${arr('f', first.features)}
        int256[${N}] memory g;
        for (uint256 i = 0; i < ${N}; i++) g[i] = f[i];
        _checkE18(0, ${L}.predict(address(model), g), ${L}.predict(address(model), f));${classifier ? `
        require(${L}.predictClass(address(model), g) == ${L}.predictClass(address(model), f), "predictClass overloads differ");` : ''}
    }

    /// Each check is external so that a revert can be caught.
    function clientPredict(int256[] memory f) external view returns (int256[] memory) {
        return ${L}.predict(address(model), f);
    }

    function _expectOutOfRange(int256[] memory f, uint256 k) internal view {
        try this.clientPredict(f) {
            revert("a feature outside the safe range was accepted");
        } catch (bytes memory err) {
            require(keccak256(err) == keccak256(abi.encodeWithSelector(${L}.FeatureOutOfRange.selector, k, f[k], ${L}.FEATURE_MIN, ${L}.FEATURE_MAX)), "not FeatureOutOfRange(index, value, min, max)");
        }
    }
`
    : ''

  return `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// Generated by ml2sc ${ML2SC_VERSION}: \`forge test\` checks ${L} (1e18 units) against ml2sc's simulator.

import {${L}} from "../src/${L}.sol";
import {${C}Deploy} from "./${C}.t.sol";

contract ${L}Test is ${C}Deploy {
    error OutputMismatchE18(uint256 vector, uint256 output, int256 got, int256 expected);

    function test_client_commitment() public view {
        ${L}.requireModel(address(model));
        require(${L}.COMMITMENT == model.commitment(), "COMMITMENT differs from the model's");
    }
${edge}
${tests.join('\n\n')}

    function _checkE18(uint256 vector, int256[] memory got, int256[] memory want) internal pure {
        require(got.length == want.length, "wrong number of outputs");
        for (uint256 j = 0; j < want.length; j++) {
            if (got[j] != want[j]) revert OutputMismatchE18(vector, j, got[j], want[j]);
        }
    }
}
`
}

/** The class ml2sc reports: a multi-output model's is its first head's (argmax of its outputs; one sigmoid output above one half). */
function classOf(plan: Plan, task: 'binary' | 'multiclass', out: bigint[]): number {
  if (!plan.heads) return interpret(plan, task, out)
  if (task === 'binary') return out[0]! > plan.scale / 2n ? 1 : 0
  const head = out.slice(0, plan.heads[0]!.size)
  return head.reduce((best, v, j) => (v > head[best]! ? j : best), 0)
}

/** A multi-output model: each head's predict<Head> is its slice of predict, predict<Head>Class its argmax (clientHeads.ts). */
function headChecks(plan: Plan, L: string, want: bigint[], out: bigint[]): string {
  let at = 0
  return (plan.heads ?? [])
    .map((h) => {
      const N = h.name.charAt(0).toUpperCase() + h.name.slice(1)
      const o = at
      at += h.size
      const head = out.slice(o, o + h.size)
      const best = head.reduce((b, v, j) => (v > head[b]! ? j : b), 0)
      return `
        { int256[] memory got = ${L}.predict${N}(address(model), f); require(got.length == ${h.size}, "predict${N}: wrong size");${Array.from({ length: h.size }, (_, j) => ` require(got[${j}] == want[${o + j}], "predict${N} differs from predict");`).join('')} }${
        h.size > 1 ? `
        require(${L}.predict${N}Class(address(model), f) == ${best}, "predict${N}Class differs from ml2sc's argmax");` : ''
      }`
    })
    .join('')
}
