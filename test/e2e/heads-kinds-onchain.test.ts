// Issue 19, multi-output models on a real anvil (one per file): two heads after a CNN (conv kernel: the heads'
// dense steps read earlier tensors, the heads layer their concatenation), after a GRU and after self-attention
// (the sequence kernels' dense layers read the values in place), and a softmax / log_softmax ending one head (the shared softmax helper
// on that head's layer). On chain each equals the simulator bit for bit and PyTorch per head within 1e-3.
import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { encodeRow } from '../../src/fixed/encodeRows.ts'
import { headsOf } from '../../src/ir/heads.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import type { ModelSpec } from '../../src/model/types.ts'
import { fileChain } from '../helpers/fileChain.ts'
import { FIXTURES } from '../helpers/paths.ts'
import { chainVsTwin } from '../helpers/sequenceChain.ts'

const G = path.join(FIXTURES, 'graph')
const csv = (f: string) => readFileSync(f, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number))
const at = (d: string, f: string) => path.join(G, d, f)

let s: ChainSession
fileChain((x) => (s = x))

const CASES: [string, string, number, ModelSpec, string, string[]][] = [
  ['CnnHeads', 'heads_cnn_digits', 64, { path: at('heads_cnn_digits', 'model.state_dict.pt'), source: at('heads_cnn_digits', 'model.py'), inputShape: [1, 8, 8] }, 'reference.csv', ['digit', 'ink']],
  ['GruHeads', 'heads_gru_sine', 8, { path: at('heads_gru_sine', 'script.pt'), inputShape: [8, 1] }, 'reference.csv', ['out0', 'out1']],
  ['AttnHeads', 'heads_attn_sine', 24, { path: at('heads_attn_sine', 'trace.pt'), source: at('heads_attn_sine', 'model.py'), inputShape: [6, 4] }, 'reference.csv', ['next', 'up']],
  ['ProbHeads', 'heads_softmax_wine', 12, { path: at('heads_softmax_wine', 'model.onnx') }, 'reference.csv', ['probs', 'alcohol']],
  ['LogHeads', 'heads_softmax_wine', 12, { path: at('heads_softmax_wine', 'model_log.state_dict.pt'), source: at('heads_softmax_wine', 'model_log.py') }, 'reference_log.csv', ['logp', 'alcohol']],
]

describe('heads after a CNN, a GRU, self-attention, and a softmax head, on chain', () => {
  for (const [name, d, n, spec, ref, names] of CASES)
    test(`${name} (${path.basename(spec.path)}): chain = simulator exactly, each head = PyTorch within 1e-3`, async () => {
      const m = await loadModel(spec)
      expect(m.heads!.map((h) => h.name)).toEqual(names)
      const plan = makePlan(m, { fraction: 20, weightBytes: 2, inputBytes: 4 })
      const features = csv(at(d, 'test.csv')).slice(0, 5).map((r) => r.slice(0, n))
      const torch = csv(at(d, ref)).map((r) => r.slice(1))
      const rows = features.map((r, i) => {
        const e = encodeRow(plan, r)
        if (!e.ok) throw new Error(`row ${i} out of range`)
        return e.values
      })
      const c = await chainVsTwin(s, plan, name, rows)
      expect(c.mismatches).toBe(0)
      expect(c.predicted).toEqual(c.twin)
      // row 0 from predict, head by head against PyTorch's own outputs
      for (const h of headsOf(m, plan.outputSize))
        for (let j = h.offset; j < h.offset + h.size; j++) expect(Math.abs(Number(c.predicted[j]) / 2 ** 20 - torch[0]![j]!)).toBeLessThan(1e-3)
      if (name === 'ProbHeads') {
        // probabilities on chain: each in [0, 1], summing to 1 within 3 half-ulps
        const p = c.predicted.slice(0, 3).map(BigInt)
        expect(p.every((v) => v >= 0n && v <= 1n << 20n)).toBe(true)
        expect(Number(p.reduce((a, b) => a + b, 0n) - (1n << 20n))).toBeLessThanOrEqual(2)
      }
      expect(c.gas).toBeGreaterThan(21_000)
    })
})
