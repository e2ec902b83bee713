import { ModelError } from '../errors/base.ts'
import type { Activation } from '../ir/types.ts'

/**
 * PyTorch's activations beyond relu/sigmoid/tanh/softmax/leaky_relu, by module class or functional name
 * (compared lowercased without `_`: `ReLU6`, `F.relu6`, `nn.GELU`, `F.log_softmax`), and how each reads its
 * arguments. Every reader (model.source, whole .pt, TorchScript, model.layers) maps names through here.
 * PReLU is not here: its slopes are weights (the `prelu` architecture step, resolved with the state_dict).
 */
export type ArgValue = number | string | boolean | undefined
/** An argument by keyword name(s) or position (the position of the first argument after the input, for functional calls). */
export type ArgOf = (names: string[], pos: number) => ArgValue

const KEYS = ['relu6', 'hardtanh', 'hardsigmoid', 'hardswish', 'elu', 'silu', 'gelu', 'softplus', 'mish', 'logsoftmax'] as const
const keyOf = (name: string) => name.toLowerCase().replace(/_/g, '')

/** Whether `name` (a class or function name) is one of these activations. */
export const isTorchActivation = (name: string): boolean => (KEYS as readonly string[]).includes(keyOf(name))

/** The nn module classes read here, and nn.PReLU. */
export const ACTIVATION_CLASSES = ['ReLU6', 'Hardtanh', 'Hardsigmoid', 'Hardswish', 'ELU', 'SiLU', 'GELU', 'Softplus', 'Mish', 'LogSoftmax', 'PReLU']

/** The PyTorch layer names the ops stand for, for messages and the README. */
export const TORCH_NAMES = 'ReLU6, Hardtanh, Hardsigmoid, Hardswish, ELU, SiLU, GELU, Softplus, Mish, LogSoftmax'

/**
 * The activation for `name` with its arguments, or undefined when `name` is not one of them. `at` names the
 * layer in messages (`'act' in model.py:12`). Refuses what the contract cannot compute exactly as PyTorch does.
 */
export function torchActivation(name: string, arg: ArgOf, at: string, where: string): Activation | undefined {
  const n = (names: string[], pos: number, d: number): number => {
    const v = arg(names, pos)
    if (v === undefined) return d
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ModelError(`${at}: cannot read ${names[0]} = ${String(v)}`, { where, hint: 'write it as a number literal' })
    return v
  }
  switch (keyOf(name)) {
    case 'relu6':
      return { kind: 'hardtanh', min: 0, max: 6 }
    case 'hardtanh': {
      const min = n(['min_val'], 0, -1)
      const max = n(['max_val'], 1, 1)
      if (min > max) throw new ModelError(`${at}: Hardtanh(min_val=${min}, max_val=${max}) has min above max`, { where })
      return { kind: 'hardtanh', min, max }
    }
    case 'hardsigmoid':
      return { kind: 'hardsigmoid' }
    case 'hardswish':
      return { kind: 'hardswish' }
    case 'elu': {
      const alpha = n(['alpha'], 0, 1)
      if (alpha < 0) throw new ModelError(`${at}: ELU(alpha=${alpha}) is not supported`, { where, hint: 'ELU with alpha ≥ 0 (the default is 1) is' })
      return { kind: 'elu', alpha }
    }
    case 'silu':
      return { kind: 'silu' }
    case 'gelu': {
      const approx = arg(['approximate'], -1) ?? 'none'
      if (approx !== 'none' && approx !== 'tanh') throw new ModelError(`${at}: GELU(approximate=${String(approx)}) is not a form PyTorch has`, { where, hint: "approximate is 'none' or 'tanh'" })
      return { kind: 'gelu', approximate: approx }
    }
    case 'softplus': {
      const beta = n(['beta'], 0, 1)
      if (beta !== 1) throw new ModelError(`${at}: Softplus(beta=${beta}) is not supported`, { where, hint: 'Softplus with beta = 1 (the default) is, with any threshold' })
      return { kind: 'softplus', threshold: n(['threshold'], 1, 20) }
    }
    case 'mish':
      return { kind: 'mish' }
    case 'logsoftmax': {
      const dim = arg(['dim'], 0)
      if (!(dim === undefined || dim === 1 || dim === -1))
        throw new ModelError(`${at}: LogSoftmax over dim ${String(dim)}`, { where, hint: 'only log_softmax over the features (dim=1 or -1) is supported' })
      return { kind: 'log_softmax' }
    }
  }
  return undefined
}
