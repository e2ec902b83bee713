// Differential fuzz of the norm ops (issue 19 norms): random graph models with LayerNorm / GroupNorm (with
// and without γ/β on chain), standalone BatchNorm (a per-feature affine), activations and norms on residual
// sums and concatenations (LayerInput.post), seqs (a norm then an activation), and the two PyTorch
// fixtures; the contract (real solc, real anvil, predictBatch transactions) against the BigInt simulator,
// bit for bit, over uniform, wide, extreme and boundary rows. 0 mismatches.
import { describe, expect, test } from 'bun:test'
import path from 'node:path'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { deployModel } from '../../src/chain/deployModel.ts'
import { predictBatchTx } from '../../src/chain/evaluateOnChain.ts'
import { uploadWeights } from '../../src/chain/uploadWeights.ts'
import { chunkSizeFor, embedsWeights, generateSolidity, type WeightLayout } from '../../src/codegen/generateSolidity.ts'
import { chunkSizes, encodeWeights } from '../../src/codegen/weights/weightBlob.ts'
import { compileSolidity } from '../../src/compile/compileSolidity.ts'
import { encodeRow } from '../../src/fixed/encodeRows.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import type { PrecisionSpec } from '../../src/fixed/types.ts'
import { flatActivations } from '../../src/ir/ops/index.ts'
import type { Activation, ModelIR } from '../../src/ir/types.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import { fileChain } from '../helpers/fileChain.ts'
import { edgeRows, KINDS, makeRow } from '../helpers/fuzzRows.ts'
import { FIXTURES } from '../helpers/paths.ts'
import { rng } from '../helpers/rng.ts'
import { A, graph } from '../helpers/syntheticModels.ts'

let s: ChainSession
fileChain((c) => (s = c))

const P = (fraction: number, weightBytes: number, inputBytes: number): PrecisionSpec => ({ fraction, weightBytes, inputBytes })
const DEFAULT = P(20, 2, 4)
const r0 = rng(19)
const vec = (n: number, lo: number, hi: number) => Array.from({ length: n }, () => lo + (hi - lo) * r0())
const LN = (n: number, affine = false, eps = 1e-5): Activation => ({ kind: 'layer_norm', size: n, groups: 1, eps, ...(affine ? { gamma: vec(n, -1.5, 2), beta: vec(n, -1, 1) } : {}) })
const GN = (n: number, groups: number): Activation => ({ kind: 'layer_norm', size: n, groups, eps: 1e-5, gamma: vec(n, 0.2, 2), beta: vec(n, -0.5, 0.5) })
const BN = (n: number): Activation => ({ kind: 'affine', scale: vec(n, -3, 3), shift: vec(n, -2, 2) })
const seq = (...ops: Activation[]): Activation => ({ kind: 'seq', ops })

type Case = { name: string; model: ModelIR | (() => Promise<ModelIR>); precision: PrecisionSpec; rows: number; layout?: WeightLayout; embed?: boolean }
const source = (name: string) => () => loadModel({ path: path.join(FIXTURES, 'graph', name, 'model.state_dict.pt'), source: path.join(FIXTURES, 'graph', name, 'model.py') })

const CASES: Case[] = [
  { name: 'fixture ln_residual_wine (two post-norm residual blocks)', model: source('ln_residual_wine'), precision: DEFAULT, rows: 200 },
  { name: 'fixture norm_digits (GroupNorm, BatchNorm on a concat), int16 inputs at 2^16', model: source('norm_digits'), precision: P(16, 2, 2), rows: 150, embed: false },
  {
    name: 'LayerNorm after a Linear (no affine), then relu(h + f(h)), then LN(γ, β) on a sum',
    model: graph(r0, 6, [[6, 8, LN(8)], [8, 8, A.tanh], [8, 8, A.identity, { op: 'add', values: [1, 2], post: A.relu }], [8, 3, A.softmax, { op: 'add', values: [1, 3], post: LN(8, true) }]]),
    precision: DEFAULT,
    rows: 230,
  },
  {
    name: 'GroupNorm(3 groups) → gelu, BatchNorm → sigmoid on a concat, layout code',
    model: graph(r0, 5, [[5, 9, seq(GN(9, 3), { kind: 'gelu', approximate: 'none' })], [5, 4, A.relu, { op: 'concat', values: [0] }], [13, 2, A.identity, { op: 'concat', values: [1, 2], post: seq(BN(13), A.sigmoid) }]]),
    precision: DEFAULT,
    rows: 230,
    layout: 'code',
  },
  {
    name: 'activation then standalone BatchNorm, LN with eps 1e-3, int8 weights at 2^12, layout storage',
    model: graph(r0, 4, [[4, 6, seq(A.relu, BN(6))], [6, 6, seq(LN(6, true, 1e-3), A.leaky(0.1))], [6, 2, A.identity, { op: 'add', values: [1, 2], post: seq(A.tanh, LN(6)) }]]),
    precision: P(12, 1, 2),
    rows: 230,
    layout: 'storage',
  },
  {
    name: 'wide LayerNorm(70) on a looped residual join, int64 inputs at 2^32',
    model: graph(r0, 10, [[10, 70, A.relu], [70, 70, A.identity], [70, 4, A.identity, { op: 'add', values: [1, 2], post: LN(70, true) }]]),
    precision: P(32, 2, 8),
    rows: 100,
    embed: false,
  },
]

const totals = { rows: 0, mismatches: 0 }

describe('norm ops differential fuzz: chain vs simulator, bit for bit', () => {
  CASES.forEach((c, ci) => {
    test(c.name, async () => {
      const model = typeof c.model === 'function' ? await c.model() : c.model
      const plan = makePlan(model, c.precision)
      const name = `NormFuzz${ci}`
      const layout = c.layout ?? 'datacontract'
      const opts = { contractName: name, chunkSize: chunkSizeFor(layout, undefined), embedWeights: c.embed, layout }
      const compiled = compileSolidity(generateSolidity(plan, opts), name)
      const { address } = await deployModel(s, compiled.bytecode, compiled.abi)
      const blob = encodeWeights(plan)
      if (!embedsWeights(plan, opts)) await uploadWeights(s, address, compiled.abi, blob, chunkSizes(blob.length, opts.chunkSize))
      const r = rng(500 + ci)
      const good: bigint[][] = []
      for (let k = 0; good.length < c.rows && k < 4 * c.rows; k++) {
        const enc = encodeRow(plan, makeRow(r, plan, KINDS[k % KINDS.length]!, 4))
        if (enc.ok) good.push(enc.values)
      }
      good.push(...edgeRows(r, plan))
      let mismatches = 0
      let first = ''
      for (let at = 0; at < good.length; at += 40) {
        const batch = good.slice(at, at + 40)
        const res = await predictBatchTx(s, address, compiled.abi, plan, batch, `norm fuzz ${c.name}`, BigInt(s.txGasCap))
        res.outputs.forEach((onchain, k) => {
          const sim = simulate(plan, batch[k]!)
          if (sim.length !== onchain.length || sim.some((v, j) => v !== onchain[j])) {
            mismatches++
            first ||= `row [${batch[k]!.join(', ')}]: chain [${onchain.join(', ')}] vs simulator [${sim.join(', ')}]`
          }
        })
      }
      totals.rows += good.length
      totals.mismatches += mismatches
      expect(first).toBe('')
      expect(mismatches).toBe(0)
    }, 300_000)
  })

  test('coverage: every norm form reached, 0 mismatches', async () => {
    const models = await Promise.all(CASES.map(async (c) => (typeof c.model === 'function' ? await c.model() : c.model)))
    const ops = models.flatMap((m) => m.layers.flatMap((l) => [l.activation, ...(l.input?.post ? [l.input.post] : [])]).flatMap(flatActivations))
    expect(ops.some((a) => a.kind === 'layer_norm' && a.groups === 1 && !a.gamma)).toBe(true)
    expect(ops.some((a) => a.kind === 'layer_norm' && a.groups > 1)).toBe(true)
    expect(ops.some((a) => a.kind === 'affine')).toBe(true)
    expect(models.some((m) => m.layers.some((l) => l.input?.post))).toBe(true)
    console.log(`norm differential fuzz: ${totals.rows} rows on chain over ${CASES.length} models, ${totals.mismatches} mismatches`)
    expect(totals.rows).toBeGreaterThan(1000)
    expect(totals.mismatches).toBe(0)
  })
})
