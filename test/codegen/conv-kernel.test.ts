// The tensor kernels (conv, pooling, dense-as-1×1-conv) on a real anvil with the EIP-7825 cap, checked
// exactly against the BigInt reference; the MNIST-shaped network's gas is asserted.
import { describe, expect, test } from 'bun:test'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { convNetReference } from '../../src/codegen/conv/convReference.ts'
import type { ConvStep, Shape3 } from '../../src/codegen/conv/convTypes.ts'
import { fusedPools } from '../../src/codegen/conv/convNetYul.ts'
import { biasedLaneHalf } from '../../src/codegen/conv/convYul.ts'
import { rowLanesOf } from '../../src/codegen/conv/rowLanesPlan.ts'
import { rng } from '../helpers/rng.ts'
import { probeNet, probePlan, runProbe, type ProbeLayer } from './convProbe.ts'
import { fileChain } from '../helpers/fileChain.ts'

let s: ChainSession
fileChain((c) => (s = c))

const randomRow = (n: number, max: number, seed: number) => {
  const r = rng(seed)
  return Array.from({ length: n }, () => BigInt(Math.round((2 * r() - 1) * max)))
}

async function check(input: Shape3, layers: ProbeLayer[], o: { wBits: number; xBits: number; seed: number; inputBytes: number; budget?: number }) {
  const steps = probeNet(input, layers, { wBits: o.wBits, xMax: 1n << BigInt(o.xBits), seed: o.seed })
  const plan = probePlan(o.inputBytes, Math.ceil(o.wBits / 8), 8)
  const row = randomRow(input.c * input.h * input.w, 2 ** o.xBits, o.seed + 1)
  const got = await runProbe(s, steps, plan, row, o.budget)
  expect(got.outputs).toEqual(convNetReference(steps, plan, row))
  return { ...got, steps }
}

describe('tensor kernels on chain', () => {
  test('MNIST-shaped CNN (conv 1→8 5×5, max-pool 2, conv 8→16 5×5, avg-pool 2, linear 256→10): exact, one predict ≤ 2,210,006 gas', async () => {
    const layers: ProbeLayer[] = [
      { kind: 'conv', cout: 8, k: 5, act: 'relu' },
      { kind: 'maxpool', k: 2 },
      { kind: 'conv', cout: 16, k: 5, act: 'relu' },
      { kind: 'avgpool', k: 2 },
      { kind: 'dense', nOut: 10 },
    ]
    // narrow (8-bit inputs and weights), int16 weights and inputs, and ml2sc's default (int16 weights, int32 inputs)
    const narrow = await check({ c: 1, h: 28, w: 28 }, layers, { wBits: 8, xBits: 7, seed: 3, inputBytes: 2, budget: 1184 })
    console.log(`MNIST-shaped narrow: ${narrow.gas} gas, lanes ${narrow.steps.map((x) => (x.kind === 'conv' ? `${x.lanes}×${x.laneBits}` : x.kind)).join(' ')}, ${narrow.runtimeBytes} B code`)
    const mid = await check({ c: 1, h: 28, w: 28 }, layers, { wBits: 16, xBits: 15, seed: 4, inputBytes: 2, budget: 1184 })
    console.log(`MNIST-shaped int16: ${mid.gas} gas, lanes ${mid.steps.map((x) => (x.kind === 'conv' ? `${x.lanes}×${x.laneBits}` : x.kind)).join(' ')}, ${mid.runtimeBytes} B code`)
    const wide = await check({ c: 1, h: 28, w: 28 }, layers, { wBits: 16, xBits: 31, seed: 5, inputBytes: 4, budget: 1184 })
    console.log(`MNIST-shaped default: ${wide.gas} gas, lanes ${wide.steps.map((x) => (x.kind === 'conv' ? `${x.lanes}×${x.laneBits}` : x.kind)).join(' ')}, ${wide.runtimeBytes} B code`)
    // as measured after issue 23's shared input loads, window rows side by side and reused memory; then conv2's
    // average pool fused in (avgFusion.ts) and every conv's lanes offset to unsigned (biasedLanes.ts): 2,278,800,
    // 2,043,832 and 1,427,108 before
    expect(wide.gas).toBeLessThanOrEqual(2_210_006)
    // conv1 on row lanes (6 pooled positions per word, 40-bit lanes), its pixels decoded into packed row words: 2,248,986 before
    expect(mid.gas).toBeLessThanOrEqual(1_962_559)
    expect(narrow.gas).toBeLessThanOrEqual(1_353_254)
  }, 900_000)

  test('padding, stride, dilation, depthwise, padded max-pool, global average pool, 1-D', async () => {
    await check({ c: 3, h: 9, w: 7 }, [
      { kind: 'conv', cout: 5, k: 3, pad: 1, act: 'relu' },
      { kind: 'maxpool', k: 3, stride: 2, pad: 1 },
      { kind: 'conv', cout: 5, k: 3, depthwise: true, pad: 1 },
      { kind: 'conv', cout: 12, k: 2, stride: 2, dil: 1 },
      { kind: 'avgpool', k: 3, stride: 1 },
      { kind: 'avgpool', k: 3, stride: 2, pad: 1, exclusive: true, act: 'relu' },
      { kind: 'dense', nOut: 3 },
    ], { wBits: 16, xBits: 15, seed: 11, inputBytes: 2 })
    await check({ c: 2, h: 10, w: 10 }, [
      { kind: 'conv', cout: 9, k: 3, dil: 2, act: 'relu' },
      { kind: 'avgpool', k: 6 },
      { kind: 'dense', nOut: 4, act: 'relu' },
      { kind: 'dense', nOut: 2 },
    ], { wBits: 8, xBits: 12, seed: 12, inputBytes: 2, budget: 0 })
    // more than 64 taps without the code budget: the taps loop over input channels (1 and 2 per turn), plain and with a fused pool
    await check({ c: 8, h: 7, w: 7 }, [{ kind: 'conv', cout: 5, k: 5, act: 'relu' }, { kind: 'dense', nOut: 2 }], { wBits: 16, xBits: 15, seed: 34, inputBytes: 2, budget: 0 })
    await check({ c: 16, h: 6, w: 6 }, [{ kind: 'conv', cout: 6, k: 3, act: 'relu' }, { kind: 'maxpool', k: 2 }, { kind: 'dense', nOut: 2 }], { wBits: 16, xBits: 15, seed: 35, inputBytes: 2, budget: 0 })
    // windows of more than 64 values loop over their rows: global average pooling, a padded (unfused) max pool, a fused one
    await check({ c: 2, h: 9, w: 9 }, [{ kind: 'conv', cout: 3, k: 1, act: 'relu' }, { kind: 'avgpool', k: 9 }, { kind: 'dense', nOut: 2 }], { wBits: 16, xBits: 15, seed: 31, inputBytes: 2 })
    await check({ c: 2, h: 9, w: 9 }, [{ kind: 'conv', cout: 3, k: 1 }, { kind: 'maxpool', k: 9, stride: 9, pad: 1 }, { kind: 'dense', nOut: 2 }], { wBits: 16, xBits: 15, seed: 32, inputBytes: 2 })
    await check({ c: 2, h: 9, w: 9 }, [{ kind: 'conv', cout: 3, k: 1, act: 'relu' }, { kind: 'maxpool', k: 9 }, { kind: 'dense', nOut: 2 }], { wBits: 16, xBits: 15, seed: 33, inputBytes: 2 })
    // fused max pools: one lane (depthwise), a free top bit (SWAR in one word) or not (even/odd split), looped and unrolled windows
    for (const [wBits, xBits, budget] of [[16, 15, 1184], [8, 5, 1184], [16, 20, 0], [12, 9, 0]] as const)
      await check({ c: 2, h: 9, w: 8 }, [
        { kind: 'conv', cout: 2, k: 3, depthwise: true, act: 'relu' },
        { kind: 'maxpool', k: 2 },
        { kind: 'conv', cout: 7, k: 2, act: 'relu' },
        { kind: 'maxpool', k: 3 },
        { kind: 'dense', nOut: 2 },
      ], { wBits, xBits, seed: 20 + xBits, inputBytes: 4, budget })
    // row lanes (rowLanesPlan.ts): output positions in the lanes of one channel's words, the input packed in place;
    // a fused max pool with both mergers (a free top bit, or even/odd lanes apart), stride 2, and none
    const forms = new Set<string>()
    for (const [wBits, xBits, cout, stride, pool] of [[16, 15, 7, 1, 2], [16, 20, 7, 1, 2], [16, 21, 7, 1, 2], [16, 17, 7, 1, 2], [16, 15, 5, 2, 0], [8, 5, 3, 1, 0]] as const) {
      const layers: ProbeLayer[] = [{ kind: 'conv', cout, k: 3, stride, act: 'relu' }, ...(pool ? [{ kind: 'maxpool' as const, k: pool }] : []), { kind: 'dense', nOut: 2 }]
      const { steps } = await check({ c: 1, h: 14, w: 14 }, layers, { wBits, xBits, seed: 40 + xBits, inputBytes: 4, budget: 1184 })
      const conv = steps[0] as ConvStep
      expect(rowLanesOf(steps, 0, fusedPools(steps))).toBeDefined()
      forms.add(pool ? (biasedLaneHalf(conv) < 1n << BigInt(conv.laneBits - 1) ? 'one compare' : 'even/odd') : 'no pool')
    }
    expect([...forms].sort()).toEqual(['even/odd', 'no pool', 'one compare'])
    // row lanes offset to unsigned: nonnegative inputs bound each channel's accumulator to [lo, hi], lanes of
    // hi − lo bits (7 of them where the ±|acc|max lanes hold 6, and 7 outputs to a row take 1 of those)
    for (const [xBits, pool, form] of [[15, 2, 'one compare'], [18, 2, 'even/odd'], [16, 0, 'no pool']] as const) {
      const layers: ProbeLayer[] = [{ kind: 'conv', cout: 8, k: 3, act: 'relu' }, ...(pool ? [{ kind: 'maxpool' as const, k: pool }] : []), { kind: 'dense', nOut: 2 }]
      const input = pool ? { c: 1, h: 16, w: 16 } : { c: 1, h: 9, w: 9 }
      const steps = probeNet(input, layers, { wBits: 16, xMax: 1n << BigInt(xBits), seed: 60 + xBits })
      steps[0] = { ...(steps[0] as ConvStep), inRange: [0n, (1n << BigInt(xBits)) - 1n] }
      const rl = rowLanesOf(steps, 0, fusedPools(steps))!
      expect([rl.lanes, rl.offsets?.length, pool ? (rl.oneCompare ? 'one compare' : 'even/odd') : 'no pool']).toEqual([7, 8, form])
      const plan = probePlan(4, 2, 8)
      const row = randomRow(input.h * input.w, 2 ** xBits, xBits).map((v) => (v < 0n ? -v : v) >> 1n)
      expect((await runProbe(s, steps, plan, row, 1184)).outputs).toEqual(convNetReference(steps, plan, row))
    }
    // 1-D: H = 1
    await check({ c: 2, h: 1, w: 40 }, [
      { kind: 'conv', cout: 6, k: 1, act: 'relu' },
      { kind: 'conv', cout: 5, k: 3, act: 'relu' },
      { kind: 'maxpool', k: 2, act: 'relu' },
      { kind: 'dense', nOut: 3 },
    ], { wBits: 16, xBits: 15, seed: 13, inputBytes: 2 })
  }, 900_000)
})
