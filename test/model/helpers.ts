import { readFileSync } from 'node:fs'
import type { Activation, ModelIR } from '../../src/ir/types.ts'

/** A plain float64 forward pass over the IR (the reference the tests compare PyTorch against). */
export function forward(ir: ModelIR, x: number[]): number[] {
  let v = x
  for (const layer of ir.layers) {
    const z = layer.weight.map((row, o) => row.reduce((s, w, i) => s + w * v[i]!, layer.bias[o]!))
    v = activate(layer.activation, z)
  }
  return v
}

function activate(a: Activation, z: number[]): number[] {
  switch (a.kind) {
    case 'identity':
      return z
    case 'relu':
      return z.map((t) => Math.max(0, t))
    case 'leaky_relu':
      return z.map((t) => (t >= 0 ? t : a.slope * t))
    case 'sigmoid':
      return z.map((t) => 1 / (1 + Math.exp(-t)))
    case 'tanh':
      return z.map(Math.tanh)
    case 'softmax': {
      const m = Math.max(...z)
      const e = z.map((t) => Math.exp(t - m))
      const s = e.reduce((p, q) => p + q, 0)
      return e.map((t) => t / s)
    }
    default:
      throw new Error(`no float reference here for ${a.kind}`)
  }
}

/** A numeric CSV: header + rows (no quoting needed for these fixtures). */
export function readCsv(file: string): { header: string[]; rows: number[][] } {
  const lines = readFileSync(file, 'utf8').trim().split(/\r?\n/)
  const header = lines[0]!.split(',')
  return { header, rows: lines.slice(1).map((l) => l.split(',').map(Number)) }
}

export function maxAbsDiff(a: number[], b: number[]): number {
  if (a.length !== b.length) return Infinity
  return Math.max(...a.map((v, i) => Math.abs(v - b[i]!)))
}
