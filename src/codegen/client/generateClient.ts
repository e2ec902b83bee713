import type { Task } from '../../ir/types.ts'
import { E18, featureRangeE18, inputRatio, outputRatio, type Ratio } from '../../fixed/e18.ts'
import { inputScaleText, inputTypeText } from '../../fixed/encodeRows.ts'
import { scaleText } from '../../fixed/makePlan.ts'
import { clientHeadsSolidity } from './clientHeads.ts'
import type { Plan } from '../../fixed/types.ts'
import { ML2SC_VERSION } from '../../version.ts'
import { predictSignature, selectorOf } from '../admin/abiSignatures.ts'

export type GenerateClientOptions = {
  /** The model contract's name; the library is `<contractName>Client`. */
  contractName: string
  task: Task
  /** keccak256 of the model's canonical weight encoding (what `commitment()` returns). */
  commitment: `0x${string}`
}

export const clientName = (contractName: string) => `${contractName}Client`

const FEATURE_OUT_OF_RANGE = 'error FeatureOutOfRange(uint256 index, int256 value, int256 min, int256 max)'
const BAD_MODEL_ANSWER = 'error BadModelAnswer(address model)'

/** A signed value as a Yul literal (Yul has no negative literals: two's complement). */
const yulInt = (v: bigint) => (v < 0n ? '0x' + BigInt.asUintN(256, v).toString(16) : v.toString())
const sel224 = (sig: string) => `shl(224, ${selectorOf(sig)})`

/** round(v·A/B) half away from zero in Yul, for a value `v` whose sign mask is `sg` (see ratio in e18.ts). */
function roundYul(r: Ratio, v: string, sg: string): string {
  const scaled = r.A === 1n ? v : `mul(${v}, ${r.A})`
  if (r.B === 1n) return scaled
  return `sdiv(add(${scaled}, sub(xor(${r.H}, ${sg}), ${sg})), ${r.B})`
}

/** Features per pass of the conversion loop; a model with at most FULL_UNROLL features has no loop at all. */
const UNROLL = 8
const FULL_UNROLL = 32

/**
 * Range-check, round and pack the N words at `src` into the call data at buf + 4 + i·inputBytes, in order
 * (each MSTORE zeroes the bytes after its feature, which the next one overwrites). Unrolled: small models
 * entirely, larger ones UNROLL features per loop pass plus a tail, so the loop's bookkeeping is paid once per
 * UNROLL features. Out of range: FeatureOutOfRange(index, value, FEATURE_MIN, FEATURE_MAX).
 */
function featuresYul(plan: Plan, min: bigint, max: bigint): string {
  const N = plan.inputSize
  const ib = plan.inputBytes
  const r = inputRatio(plan)
  // one feature: `at` its source word, `to` its place in the call data, `index` its index (all Yul expressions)
  const one = (at: string, to: string, index: string) =>
    `{ let v := mload(${at}) if gt(sub(v, lo), span) { outOfRange(buf, ${index}, v) } let sg := sar(255, v) mstore(${to}, shl(${256 - 8 * ib}, ${roundYul(r, 'v', 'sg')})) }`
  const hx = (n: number) => '0x' + n.toString(16)
  const lines = [
    `            function outOfRange(b, i, v) {`,
    `                mstore(b, ${sel224(FEATURE_OUT_OF_RANGE)}) mstore(add(b, 4), i) mstore(add(b, 36), v) mstore(add(b, 68), ${yulInt(min)}) mstore(add(b, 100), ${max}) revert(b, 132)`,
    `            }`,
    `            // each feature: one unsigned compare for the range (v - FEATURE_MIN wraps above the span outside it), then`,
    `            // round(v · ${r.A}/${r.B}) to nearest, half away from zero, in the top ${8 * ib} bits of its MSTORE`,
    `            let lo := ${yulInt(min)}`,
    `            let span := ${max - min}`,
  ]
  const loops = N > FULL_UNROLL ? Math.floor(N / UNROLL) : 0
  if (loops) {
    lines.push(`            for { let s := src let d := add(buf, 4) let end := add(src, ${hx(32 * UNROLL * loops)}) } lt(s, end) { s := add(s, ${hx(32 * UNROLL)}) d := add(d, ${hx(ib * UNROLL)}) } {`)
    // the index is computed only on the way to the revert
    for (let k = 0; k < UNROLL; k++) lines.push(`                ${one(k ? `add(s, ${hx(32 * k)})` : 's', k ? `add(d, ${hx(ib * k)})` : 'd', k ? `add(shr(5, sub(s, src)), ${k})` : 'shr(5, sub(s, src))')}`)
    lines.push(`            }`)
  }
  for (let i = loops * UNROLL; i < N; i++) lines.push(`            ${one(i ? `add(src, ${hx(32 * i)})` : 'src', `add(buf, ${hx(4 + ib * i)})`, String(i))}`)
  return lines.join('\n')
}

/**
 * `<Contract>Client.sol`: a Solidity library through which another contract calls the model in the
 * ecosystem's units, 1e18-scaled int256 (PRBMath's SD59x18). It checks each feature against the safe
 * input range the plan proves (FeatureOutOfRange), rounds it to nearest into the model's calldata
 * encoding, packs the row, STATICCALLs `predict(bytes32[K])`, and turns the outputs back into 1e18.
 * Its functions are `internal`: they are inlined into the caller, so no library is deployed.
 */
export function generateClient(plan: Plan, opts: GenerateClientOptions): string {
  const C = opts.contractName
  const L = clientName(C)
  const N = plan.inputSize
  const M = plan.outputSize
  const ib = plan.inputBytes
  const K = Math.ceil((N * ib) / 32)
  const { min, max } = featureRangeE18(plan)
  const rout = outputRatio(plan)
  // a returned output beyond ±LIMIT would overflow the conversion to 1e18: refused, never wrapped
  const limit = ((1n << 255n) - 1n - rout.H) / rout.A
  const retLen = 64 + 32 * M
  const sig = predictSignature(N * ib)
  const predictSel = selectorOf(sig)
  // a multi-output model: predictClass is its first head's (a binary head is one sigmoid output: ir/heads.ts)
  const lastAct = plan.heads ? (opts.task === 'binary' ? 'sigmoid' : 'identity') : plan.layers[plan.layers.length - 1]!.activation.kind
  const classCount = plan.heads ? `${plan.heads[0]!.size}` : 'OUTPUTS'
  const classifier = opts.task !== 'regression'

  const classBody =
    opts.task === 'multiclass'
      ? `        // the index of the largest output (the first on a tie), on the raw outputs: the order is the same in 1e18
        uint256 best = 0;
        for (uint256 j = 1; j < ${classCount}; j++) if (raw[j] > raw[best]) best = j;
        return best;`
      : lastAct === 'sigmoid'
        ? `        // one sigmoid output: class 1 above one half (${plan.scale / 2n} at ${scaleText(plan)})
        return raw[0] > ${plan.scale / 2n} ? 1 : 0;`
        : `        // one logit: class 1 above zero
        return raw[0] > 0 ? 1 : 0;`

  const classFns = classifier
    ? `
    /// @notice The class the model predicts for \`features\` (1e18 units): ${opts.task === 'multiclass' ? 'the argmax of the outputs' : 'output above the threshold'}, as \`ml2sc predict\` reports it.
    function predictClass(address model, int256[] memory features) internal view returns (uint256) {
        if (features.length != INPUTS) revert FeatureCount(features.length, INPUTS);
        uint256 src;
        assembly ("memory-safe") { src := add(features, 0x20) }
        return _classOf(_predictRaw(model, src));
    }

    /// @notice predictClass for a fixed-size row: no length check.
    function predictClass(address model, int256[INPUTS] memory features) internal view returns (uint256) {
        uint256 src;
        assembly ("memory-safe") { src := features }
        return _classOf(_predictRaw(model, src));
    }

    function _classOf(int256[] memory raw) private pure returns (uint256) {
${classBody}
    }
`
    : ''

  return `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// Generated by ml2sc ${ML2SC_VERSION}: call ${C} from another contract in 1e18 units.

/// The part of ${C}'s interface a caller needs.
interface I${C}Model {
    ${sig};
    function commitment() external view returns (bytes32);
}

/// @title ${L}
/// @notice Features and outputs are 1e18-scaled int256 (1.5 is 1.5e18), as PRBMath's SD59x18 and most DeFi code.
/// The model reads its ${N} features as ${inputTypeText(plan)} at ${inputScaleText(plan)}: each feature is rounded to the nearest step
/// (half away from zero), and must lie in [FEATURE_MIN, FEATURE_MAX], the range in which ml2sc proved the model
/// cannot overflow; outside it the call reverts with FeatureOutOfRange. Outputs come back at ${scaleText(plan)} and are
/// rounded to nearest into 1e18. The functions are internal: they are inlined into your contract.
/// Pin the exact model with requireModel(model) (or I${C}Model(model).commitment() == COMMITMENT): an owner's update
/// changes the weights, and so the commitment.
library ${L} {
    ${FEATURE_OUT_OF_RANGE};
    error FeatureCount(uint256 count, uint256 expected);
    error ModelMismatch(address model, bytes32 commitment, bytes32 expected);
    /// The address answered predict with no code, or with an answer of the wrong shape or size.
    ${BAD_MODEL_ANSWER};

    /// Features per row and outputs per prediction.
    uint256 internal constant INPUTS = ${N};
    uint256 internal constant OUTPUTS = ${M};
    /// The safe input range, in 1e18 units (the same for every feature): ${Number(min) / 1e18} to ${Number(max) / 1e18}.
    int256 internal constant FEATURE_MIN = ${min};
    int256 internal constant FEATURE_MAX = ${max};
    /// keccak256 of the model's weights, as ${C}.commitment() returns it.
    bytes32 internal constant COMMITMENT = ${opts.commitment};
    /// The unit of features and outputs.
    int256 internal constant ONE = ${E18};

    /// @notice Revert with ModelMismatch unless \`model\` holds exactly the weights this library was generated for.
    function requireModel(address model) internal view {
        bytes32 c = I${C}Model(model).commitment();
        if (c != COMMITMENT) revert ModelMismatch(model, c, COMMITMENT);
    }

    /// @notice The model's ${M} output(s) for \`features\` (${N} values), all in 1e18 units.
    function predict(address model, int256[] memory features) internal view returns (int256[] memory outputs) {
        if (features.length != INPUTS) revert FeatureCount(features.length, INPUTS);
        uint256 src;
        assembly ("memory-safe") { src := add(features, 0x20) }
        return _toE18(model, _predictRaw(model, src));
    }

    /// @notice predict for a fixed-size row: no length check.
    function predict(address model, int256[INPUTS] memory features) internal view returns (int256[] memory outputs) {
        uint256 src;
        assembly ("memory-safe") { src := features }
        return _toE18(model, _predictRaw(model, src));
    }
${classFns}${clientHeadsSolidity(plan)}
    /// Range-check and encode the ${N} words at \`src\` into predict's call data (selector, ${K} word(s)), call the
    /// model, and return its raw outputs (at ${scaleText(plan)}) in a new int256[].
    function _predictRaw(address model, uint256 src) private view returns (int256[] memory raw) {
        assembly ("memory-safe") {
            let buf := mload(0x40)
            // the row's last word first (its padding must be zero), then the selector, then the features
            mstore(add(buf, ${4 + 32 * (K - 1)}), 0)
            mstore(buf, ${'shl(224, ' + predictSel + ')'})
${featuresYul(plan, min, max)}
            if iszero(staticcall(gas(), model, buf, ${4 + 32 * K}, 0, 0)) {
                returndatacopy(buf, 0, returndatasize())
                revert(buf, returndatasize())
            }
            // the answer is abi.encode(int256[${M}]): offset 0x20, length ${M}, the values
            returndatacopy(buf, 0, ${retLen})
            if or(iszero(eq(returndatasize(), ${retLen})), or(iszero(eq(mload(buf), 0x20)), iszero(eq(mload(add(buf, 0x20)), ${M})))) {
                mstore(0, ${sel224(BAD_MODEL_ANSWER)})
                mstore(4, model)
                revert(0, 36)
            }
            raw := add(buf, 0x20)
            mstore(0x40, add(buf, ${retLen}))
        }
    }

    /// Outputs at ${scaleText(plan)} → 1e18 in place: round(r · ${rout.A}/${rout.B}), half away from zero.
    function _toE18(address model, int256[] memory raw) private pure returns (int256[] memory) {
        assembly ("memory-safe") {
            for { let p := add(raw, 0x20) let end := add(p, ${32 * M}) } lt(p, end) { p := add(p, 0x20) } {
                let r := mload(p)
                if gt(add(r, ${limit}), ${2n * limit}) {
                    mstore(0, ${sel224(BAD_MODEL_ANSWER)})
                    mstore(4, model)
                    revert(0, 36)
                }
                let sg := sar(255, r)
                mstore(p, ${roundYul(rout, 'r', 'sg')})
            }
        }
        return raw;
    }
}
`
}
