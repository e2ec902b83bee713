// A minimal contract around the tensor kernels (no admin, no ABI): calldata = the blob's data-contract
// address (one word) then one row; returns the outputs as words. Lets the kernel be checked and its gas
// measured on a real anvil apart from the rest of the pipeline.
import type { Hex } from 'viem'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { compileSolidity } from '../../src/compile/compileSolidity.ts'
import { encodeConvBlob } from '../../src/codegen/conv/convBlob.ts'
import { convMemory } from '../../src/codegen/conv/convMemory.ts'
import { convNetYul, fusedAvgPools, fusedPools } from '../../src/codegen/conv/convNetYul.ts'
import { laneGroupsOf, tapsOf, type ConvStep, type Pad4, type Shape3, type TensorStep } from '../../src/codegen/conv/convTypes.ts'
import type { Plan } from '../../src/fixed/types.ts'
import type { Activation } from '../../src/ir/types.ts'
import { rng } from '../helpers/rng.ts'

const abs = (v: bigint) => (v < 0n ? -v : v)
const NOPAD: Pad4 = { top: 0, bottom: 0, left: 0, right: 0 }

export type ProbeLayer =
  | { kind: 'conv'; cout: number; k: number; stride?: number; pad?: number; dil?: number; depthwise?: boolean; act?: Activation['kind'] }
  | { kind: 'maxpool' | 'avgpool'; k: number; stride?: number; pad?: number; exclusive?: boolean; act?: Activation['kind'] }
  | { kind: 'dense'; nOut: number; act?: Activation['kind'] }

/**
 * Random integer weights for a layer list, with lanes sized by interval analysis over inputs |x| ≤ xMax
 * (the same rule as makePlan: the accumulator's bit length plus a sign bit, in whole bytes).
 */
export function probeNet(input: Shape3, layers: ProbeLayer[], o: { wBits: number; xMax: bigint; seed: number; wShift?: number }): TensorStep[] {
  const r = rng(o.seed)
  const wMax = (1 << (o.wBits - 1)) - 1
  const wShift = o.wShift ?? o.wBits - 1
  let shape = input
  let xMax = o.xMax
  return layers.map((l, i) => {
    const name = `l${i}`
    const inShape = shape
    if (l.kind === 'maxpool' || l.kind === 'avgpool') {
      const pad = l.pad ?? 0
      const s = l.stride ?? l.k
      shape = { c: shape.c, h: Math.floor((shape.h + 2 * pad - l.k) / s) + 1, w: Math.floor((shape.w + 2 * pad - l.k) / s) + 1 }
      return { kind: l.kind, name, inShape, outShape: shape, kh: l.k, kw: l.k, sh: s, sw: s, dh: 1, dw: 1, pad: { top: pad, bottom: pad, left: pad, right: pad }, countIncludePad: !l.exclusive, activation: { kind: l.act ?? 'identity' } as Activation, slopeQ: 0n }
    }
    const d = l as { nOut: number; act?: Activation['kind'] }
    const conv = l.kind === 'conv' ? l : { kind: 'conv' as const, cout: d.nOut, k: 1, act: d.act }
    const flat = l.kind === 'dense'
    const inS = flat ? { c: inShape.c * inShape.h * inShape.w, h: 1, w: 1 } : inShape
    const groups = l.kind === 'conv' && l.depthwise ? inS.c : 1
    const pad = l.kind === 'conv' ? (l.pad ?? 0) : 0
    const st = l.kind === 'conv' ? (l.stride ?? 1) : 1
    const dil = l.kind === 'conv' ? (l.dil ?? 1) : 1
    const k = conv.k
    // 1-D (H = 1): the kernel, stride and padding act along W only
    const oneD = inS.h === 1
    const kh = oneD ? 1 : k
    const padH = oneD ? 0 : pad
    const outShape = { c: conv.cout, h: oneD ? 1 : Math.floor((inS.h + 2 * pad - dil * (k - 1) - 1) / st) + 1, w: Math.floor((inS.w + 2 * pad - dil * (k - 1) - 1) / st) + 1 }
    const cinPer = inS.c / groups
    const w = () => BigInt(Math.round((2 * r() - 1) * wMax))
    const weights = Array.from({ length: conv.cout }, () => Array.from({ length: cinPer }, () => Array.from({ length: kh }, () => Array.from({ length: k }, w))))
    const biases = Array.from({ length: conv.cout }, () => BigInt(Math.round((2 * r() - 1) * 2 ** (wShift + 10))) + (1n << BigInt(wShift - 1)))
    let accMax = 0n
    for (let c = 0; c < conv.cout; c++) {
      const a = weights[c]!.flat(2).reduce((s, v) => s + abs(v) * xMax, abs(biases[c]!))
      if (a > accMax) accMax = a
    }
    const laneBits = 8 * Math.ceil((accMax.toString(2).length + 1) / 8)
    const act = { kind: conv.act ?? 'identity' } as Activation
    xMax = (accMax >> BigInt(wShift)) + 1n
    shape = outShape
    const step: ConvStep = {
      kind: 'conv', name, inShape: inS, outShape, kh, kw: k, sh: oneD ? 1 : st, sw: st, dh: oneD ? 1 : dil, dw: dil,
      pad: pad ? { top: padH, bottom: padH, left: pad, right: pad } : NOPAD,
      groups, weights, biases, wShift, accMax, laneBits, lanes: Math.max(1, Math.floor(256 / laneBits)), activation: act, slopeQ: 0n,
    }
    return step
  })
}

export const probePlan = (inputBytes: number, weightBytes: number, biasBytes: number): Plan =>
  ({ F: 16, scale: 1n << 16n, slopeBits: 16, weightBytes, biasBytes, inputBytes, outputBytes: 8, inputMin: 0n, inputMax: 0n, layers: [], inputSize: 0, outputSize: 0 }) as Plan

export function probeSource(steps: TensorStep[], plan: Plan, budget?: number): { source: string; blob: Uint8Array; outputs: number } {
  // as convInference: a conv's output is not stored when its max pool or its average pool runs inside it
  const avg = fusedAvgPools(steps, budget)
  const mem = convMemory(steps, plan.weightBytes, plan.biasBytes, plan.outputBytes, fusedPools(steps).map((f, i) => f || avg[i]!))
  const yul = convNetYul(steps, plan, mem, budget)
  const last = mem.tensors[mem.tensors.length - 1]!
  const outputs = last.shape.c * last.shape.h * last.shape.w
  const source = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;
contract ConvProbe {
    fallback() external {
        assembly {
            extcodecopy(calldataload(0), ${'0x' + mem.blob.toString(16)}, 1, ${mem.blobLayout.length})
            ${yul.perTx}
            let rp := 32
            ${yul.perRow}
            return(${'0x' + last.at.toString(16)}, ${32 * outputs})
        }
    }
}
`
  return { source, blob: encodeConvBlob(steps, plan.weightBytes, plan.biasBytes), outputs }
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

/** Deploy the blob (as a data contract) and the probe; run one row in a transaction; return outputs and gas. */
export async function runProbe(s: ChainSession, steps: TensorStep[], plan: Plan, row: bigint[], budget?: number) {
  const { source, blob, outputs } = probeSource(steps, plan, budget)
  const c = compileSolidity(source, 'ConvProbe')
  const code = '00' + hex(blob)
  const n = code.length / 2
  // initcode: copy the code that follows and return it
  const init = `61${n.toString(16).padStart(4, '0')}80600c6000396000f3` + code
  const dep = async (data: Hex) => {
    const hash = await s.walletClient.sendTransaction({ account: s.account, chain: s.chain, data, gas: 16_000_000n })
    const rc = await s.publicClient.waitForTransactionReceipt({ hash })
    if (rc.status !== 'success') throw new Error('deploy failed')
    return rc.contractAddress!
  }
  const data = await dep(`0x${init}`)
  const probe = await dep(c.bytecode)
  const B = plan.inputBytes
  const rowHex = row.map((v) => BigInt.asUintN(8 * B, v).toString(16).padStart(2 * B, '0')).join('')
  const calldata = `0x${data.slice(2).padStart(64, '0')}${rowHex}` as Hex
  const ret = await s.publicClient.call({ to: probe, data: calldata, gas: 16_000_000n })
  const words = ret.data!.slice(2).match(/.{64}/g)!.map((w) => BigInt.asIntN(256, BigInt('0x' + w)))
  const hash = await s.walletClient.sendTransaction({ account: s.account, chain: s.chain, to: probe, data: calldata, gas: 16_000_000n })
  const rc = await s.publicClient.waitForTransactionReceipt({ hash })
  if (rc.status !== 'success') throw new Error('probe transaction reverted')
  return { outputs: words.slice(0, outputs), gas: Number(rc.gasUsed), runtimeBytes: c.runtimeBytes, taps: steps.reduce((a, st) => a + (st.kind === 'conv' ? laneGroupsOf(st).length * tapsOf(st) : 0), 0) }
}
