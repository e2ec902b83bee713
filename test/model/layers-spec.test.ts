import { describe, expect, test } from 'bun:test'
import { ConfigError } from '../../src/errors/base.ts'
import type { Tensor, TensorMap } from '../../src/ir/types.ts'
import { parseLayersSpec } from '../../src/model/parseLayersSpec.ts'

const t = (...shape: number[]): Tensor => ({ shape, data: new Float64Array(shape.reduce((a, b) => a * b, 1)) })
const mlp = (): TensorMap =>
  new Map([
    ['fc1.weight', t(4, 3)],
    ['fc1.bias', t(4)],
    ['fc2.weight', t(2, 4)],
    ['fc2.bias', t(2)],
  ])

describe('parseLayersSpec', () => {
  test('linear layers take the state_dict prefixes in order', () => {
    expect(parseLayersSpec(['linear', 'relu', 'linear', 'sigmoid'], mlp(), 'w.json')).toEqual([
      { op: 'linear', name: 'fc1' },
      { op: 'activation', activation: { kind: 'relu' } },
      { op: 'linear', name: 'fc2' },
      { op: 'activation', activation: { kind: 'sigmoid' } },
    ])
  })

  test('PyTorch spellings, case and arguments', () => {
    const steps = parseLayersSpec(['Linear(3, 4)', 'LeakyReLU(0.1)', 'nn.Dropout(0.5)', 'Linear', 'Softmax(dim=1)'], mlp(), 'w.json')
    expect(steps).toEqual([
      { op: 'linear', name: 'fc1' },
      { op: 'activation', activation: { kind: 'leaky_relu', slope: 0.1 } },
      { op: 'skip', name: 'dropout' },
      { op: 'linear', name: 'fc2' },
      { op: 'activation', activation: { kind: 'softmax' } },
    ])
    expect(parseLayersSpec(['LINEAR', 'leaky_relu', 'linear', 'TANH'], mlp(), 'w')[1]).toEqual({ op: 'activation', activation: { kind: 'leaky_relu', slope: 0.01 } })
    expect(parseLayersSpec(['linear', 'LeakyReLU(negative_slope=0.2)', 'linear'], mlp(), 'w')[1]).toEqual({ op: 'activation', activation: { kind: 'leaky_relu', slope: 0.2 } })
    expect(parseLayersSpec(['flatten', 'linear', 'identity', 'linear'], mlp(), 'w').map((s) => s.op)).toEqual(['skip', 'linear', 'skip', 'linear'])
  })

  test('batchnorm takes the prefixes with running statistics; sequential names', () => {
    const tensors: TensorMap = new Map([
      ['net.0.weight', t(4, 3)],
      ['net.0.bias', t(4)],
      ['net.1.weight', t(4)],
      ['net.1.bias', t(4)],
      ['net.1.running_mean', t(4)],
      ['net.1.running_var', t(4)],
      ['net.1.num_batches_tracked', t()],
      ['net.3.weight', t(2, 4)],
      ['net.3.bias', t(2)],
    ])
    expect(parseLayersSpec(['linear', 'batchnorm', 'relu', 'linear'], tensors, 'w')).toEqual([
      { op: 'linear', name: 'net.0' },
      { op: 'batchnorm', name: 'net.1', eps: 1e-5 },
      { op: 'activation', activation: { kind: 'relu' } },
      { op: 'linear', name: 'net.3' },
    ])
    expect(parseLayersSpec(['linear', 'batchnorm(1e-3)', 'relu', 'linear'], tensors, 'w')[1]).toEqual({ op: 'batchnorm', name: 'net.1', eps: 1e-3 })
    expect(parseLayersSpec(['linear', 'BatchNorm1d(4)', 'relu', 'linear'], tensors, 'w')[1]).toEqual({ op: 'batchnorm', name: 'net.1', eps: 1e-5 })
    expect(parseLayersSpec(['linear', 'BatchNorm1d(4, eps=0.01)', 'relu', 'linear'], tensors, 'w')[1]).toEqual({ op: 'batchnorm', name: 'net.1', eps: 0.01 })
  })

  test('unknown entries name model.layers[i] and list what is supported', () => {
    let err: unknown
    try {
      parseLayersSpec(['linear', 'layernorm', 'linear'], mlp(), 'cfg.yaml')
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ConfigError)
    const e = err as ConfigError
    expect(e.shortMessage).toContain('model.layers[1]')
    expect(e.shortMessage).toContain('layernorm')
    expect(e.hint).toContain('leaky_relu')
    expect(e.where).toBe('cfg.yaml')
  })

  test('too many or too few linear layers, wrong Linear(in, out)', () => {
    expect(() => parseLayersSpec(['linear', 'relu', 'linear', 'relu', 'linear'], mlp(), 'w')).toThrow(/model.layers\[4\].*2 Linear layer/)
    expect(() => parseLayersSpec(['linear', 'sigmoid'], mlp(), 'w')).toThrow(/declares 1 linear layer\(s\) but the state_dict holds 2/)
    expect(() => parseLayersSpec(['Linear(3, 5)', 'relu', 'linear'], mlp(), 'w')).toThrow(ConfigError)
    expect(() => parseLayersSpec(['linear', 'batchnorm', 'linear'], mlp(), 'w')).toThrow(/batchnorm #1/)
    expect(() => parseLayersSpec(['linear', 'leaky_relu(abc)', 'linear'], mlp(), 'w')).toThrow(ConfigError)
    expect(() => parseLayersSpec([], mlp(), 'w')).toThrow(/empty/)
  })
})
