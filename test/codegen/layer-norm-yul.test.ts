// The LayerNorm / GroupNorm primitive's Yul (src/ir/ops/layerNorm.ts, isqrt.ts, affine.ts) on a real anvil:
// a bare probe contract normalises the words it is sent and returns them; every answer must equal the
// BigInt twin (layerNormFixed, affineFixed) exactly, on random rows and on the extremes (a constant row,
// one outlier, values at the overflow check's limit). The gas of one 16-feature LayerNorm is printed.
import { describe, expect, test } from 'bun:test'
import type { Hex } from 'viem'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { compileSolidity } from '../../src/compile/compileSolidity.ts'
import type { Activation } from '../../src/ir/activation.ts'
import { opOf, type YulCtx } from '../../src/ir/ops/index.ts'
import { epsAtScale2, layerNormCheck } from '../../src/ir/ops/layerNorm.ts'
import { fileChain } from '../helpers/fileChain.ts'
import { rng } from '../helpers/rng.ts'

let s: ChainSession
fileChain((c) => (s = c))

const F = 20
const S = 1n << BigInt(F)
const ctx: YulCtx = { scale: S, slopeBits: F, F, binary: true, clampFree: false, sigmoidInline: false }

function probeSource(a: Activation, n: number): string {
  const op = opOf(a)
  const helpers = op.yul.helpers(ctx).map((h) => h.text).join('\n            ')
  return `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;
contract NormProbe {
    fallback(bytes calldata) external returns (bytes memory) {
        assembly {
            ${helpers}
            calldatacopy(0x80, 0, ${32 * n})
            ${op.yul.vectorCall!('0x80', n, a, ctx)}
            return(0x80, ${32 * n})
        }
    }
}`
}

async function deploy(a: Activation, n: number): Promise<Hex> {
  const c = compileSolidity(probeSource(a, n), 'NormProbe')
  const hash = await s.walletClient.sendTransaction({ account: s.account, chain: s.chain, data: c.bytecode, gas: 16_000_000n })
  const rc = await s.publicClient.waitForTransactionReceipt({ hash })
  if (rc.status !== 'success') throw new Error('deploy failed')
  return rc.contractAddress!
}

const word = (v: bigint) => BigInt.asUintN(256, v).toString(16).padStart(64, '0')

async function run(at: Hex, row: bigint[]): Promise<bigint[]> {
  const ret = await s.publicClient.call({ to: at, data: `0x${row.map(word).join('')}` as Hex, gas: 16_000_000n })
  return ret.data!.slice(2).match(/.{64}/g)!.map((w) => BigInt.asIntN(256, BigInt('0x' + w)))
}

function rows(n: number, seed: number, limit: bigint): bigint[][] {
  const r = rng(seed)
  const out: bigint[][] = []
  for (let k = 0; k < 24; k++) {
    const mag = [1, 1e-3, 40, 1e5][k % 4]!
    out.push(Array.from({ length: n }, () => BigInt(Math.round((2 * r() - 1) * mag * Number(S)))))
  }
  out.push(new Array<bigint>(n).fill(3n * S)) // a constant row: all zeros
  out.push(Array.from({ length: n }, (_, i) => (i === 0 ? 1000n * S : 0n))) // one outlier: √(n−1)
  out.push(Array.from({ length: n }, (_, i) => (i % 2 ? limit : -limit))) // at the overflow check's limit
  return out
}

/** The largest power of two the op's overflow check lets through. */
function limitOf(a: Activation): bigint {
  const op = opOf(a)
  let p = 1n << 40n
  while (!op.check?.(p << 1n, a, 0n, ctx) && p < 1n << 200n) p <<= 1n
  return p
}

const r = rng(3)
const CASES: { what: string; a: Activation }[] = [
  { what: 'LayerNorm(16), eps 1e-5, no affine', a: { kind: 'layer_norm', size: 16, groups: 1, eps: 1e-5 } },
  { what: 'LayerNorm(7), eps 1e-6, affine', a: { kind: 'layer_norm', size: 7, groups: 1, eps: 1e-6, gamma: Array.from({ length: 7 }, () => 3 * r() - 1), beta: Array.from({ length: 7 }, () => 2 * r() - 1) } },
  { what: 'GroupNorm(3 groups, 12), eps 1e-5, affine', a: { kind: 'layer_norm', size: 12, groups: 3, eps: 1e-5, gamma: Array.from({ length: 12 }, () => 2 * r()), beta: Array.from({ length: 12 }, () => r() - 0.5) } },
  { what: 'affine (standalone BatchNorm, 5)', a: { kind: 'affine', scale: [1.5, -0.25, 3, 0.001, -7], shift: [0.5, 0, -2, 1e-3, 4] } },
]

describe('norm primitives: the Yul on anvil equals the BigInt twin', () => {
  for (const { what, a } of CASES)
    test(what, async () => {
      const n = a.kind === 'affine' ? a.scale.length : a.kind === 'layer_norm' ? a.size : 0
      const at = await deploy(a, n)
      const limit = limitOf(a)
      if (a.kind === 'layer_norm') expect(layerNormCheck(limit, n / a.groups, epsAtScale2(a.eps, S), S)).toBeUndefined()
      for (const row of rows(n, n, limit)) expect(await run(at, row)).toEqual(opOf(a).fixed(row, a, 0n, ctx))
      if (what.startsWith('LayerNorm(16)')) {
        const gas = await s.publicClient.estimateGas({ account: s.account, to: at, data: `0x${rows(n, 1, limit)[0]!.map(word).join('')}` as Hex })
        console.log(`one LayerNorm over 16 features (probe transaction, 21,000 base and calldata included): ${gas} gas`)
      }
    }, 300_000)
})
