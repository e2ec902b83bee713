// The conv/pool semantics against PyTorch itself: single layers with random geometry (1-D and 2-D,
// stride, padding incl. 'same' with even kernels, dilation, grouped and depthwise convs, padded and
// dilated max pools, average pools with count_include_pad on and off, adaptive average pooling), made by
// scripts/cnn_fixtures.py with PyTorch in float64. ml2sc's shapes must be PyTorch's and its float pass
// equal to 1e-9; the fixed-point twin must agree with the float pass to the quantisation step.
import { expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { makeTensorPlan } from '../../src/fixed/makeTensorPlan.ts'
import { fixedTensorLayers, floatTensorLayers } from '../../src/fixed/tensorForward.ts'
import type { Plan } from '../../src/fixed/types.ts'
import { buildTensorLayers } from '../../src/ir/buildTensorLayers.ts'
import type { TensorStep } from '../../src/ir/tensorTypes.ts'
import type { ModelIR, TensorMap } from '../../src/ir/types.ts'
import { FIXTURES } from '../helpers/paths.ts'

type Case = { inputShape: number[]; step: TensorStep; tensors: Record<string, { shape: number[]; data: number[] }>; input: number[]; outShape: number[]; output: number[] }
const cases: Case[] = JSON.parse(readFileSync(path.join(FIXTURES, 'cnn_random.json'), 'utf8'))

test('the fixture covers every layer kind', () => {
  const ops = new Set(cases.map((c) => c.step.op))
  expect([...ops].sort()).toEqual(['avgpool', 'conv', 'globalavgpool', 'maxpool'])
  expect(cases.some((c) => c.step.op === 'conv' && c.step.padding === 'same_upper' && c.tensors['c.weight']!.shape.slice(2).some((k) => k % 2 === 0))).toBe(true)
  expect(cases.some((c) => c.step.op === 'conv' && (c.step.groups ?? 1) > 1)).toBe(true)
  expect(cases.some((c) => c.step.op === 'avgpool' && c.step.countIncludePad === false)).toBe(true)
})

test.each(cases.map((c, i) => [i, c] as const))('case %i: shape and float output are PyTorch\'s; fixed point follows', (_i, c) => {
  const tensors: TensorMap = new Map(Object.entries(c.tensors).map(([k, t]) => [k, { shape: t.shape, data: Float64Array.from(t.data) }]))
  const { tensorLayers } = buildTensorLayers([c.step, { op: 'flatten' }], c.inputShape, (k) => tensors.get(k)!, (k) => tensors.get(k), () => {}, 'case')
  expect(tensorLayers[0]!.outShape).toEqual(c.outShape)
  const model: ModelIR = { format: 'test', inputSize: c.input.length, inputShape: c.inputShape, tensorLayers, layers: [] }
  const y = floatTensorLayers(model, c.input)[0]!
  expect(Math.max(...y.map((v, j) => Math.abs(v - c.output[j]!)))).toBeLessThan(1e-9)
  // fixed point at 2^24 with int16 weights: a conv within its weights' rounding, pooling within an ulp
  const F = 24
  const { tensorLayers: plans } = makeTensorPlan(model, { wMaxQ: 32767n, F, scale: 1n << BigInt(F), slopeBits: F, inputAbsMax: 1n << 40n })
  const xq = c.input.map((v) => BigInt(Math.round(v * 2 ** F)))
  const plan = { tensorLayers: plans, slopeBits: F, scale: 1n << BigInt(F) } as unknown as Plan
  const yq = fixedTensorLayers(plan, xq)[0]!
  const err = Math.max(...yq.map((v, j) => Math.abs(Number(v) / 2 ** F - y[j]!)))
  expect(err).toBeLessThan(c.step.op === 'conv' ? 2e-3 : 2 ** -F + 1e-12)
})
