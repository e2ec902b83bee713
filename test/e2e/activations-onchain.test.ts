// Issue 19's activations, on chain, against PyTorch: for each fixture of scripts/make-activation-fixtures.py
// (a wine MLP per activation: ReLU6, Hardtanh, Hardsigmoid, Hardswish, ELU, SiLU, GELU erf and tanh,
// Softplus, Mish, PReLU with one slope and with a slope per channel, LogSoftmax), every format PyTorch wrote (ONNX with its multi-node patterns, whole
// .pt, TorchScript script and trace, state_dict with model.py, state_dict with model.layers) reads to the
// same activations and the same quantised weights; the contract's outputs equal the simulator's bit for bit
// and PyTorch's within 1e-4 (every class the same).
import { describe, expect, test } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { deployModel } from '../../src/chain/deployModel.ts'
import { predictBatchTx } from '../../src/chain/evaluateOnChain.ts'
import { uploadWeights } from '../../src/chain/uploadWeights.ts'
import { embedsWeights, generateSolidity } from '../../src/codegen/generateSolidity.ts'
import { chunkSizes, encodeWeights } from '../../src/codegen/weights/weightBlob.ts'
import { compileSolidity } from '../../src/compile/compileSolidity.ts'
import { readAllRows } from '../../src/data/readCsv.ts'
import { encodeRow } from '../../src/fixed/encodeRows.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { referenceForward } from '../../src/fixed/referenceForward.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import { describeActivation } from '../../src/ir/buildModel.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import type { ModelSpec } from '../../src/model/types.ts'
import { fileChain } from '../helpers/fileChain.ts'
import { FIXTURES } from '../helpers/paths.ts'
import { pytorchOutputs } from '../helpers/pytorchOutputs.ts'

const ROOT = path.join(FIXTURES, 'acts')
const NAMES = readdirSync(ROOT).sort()
/** What each fixture's two activations read as (the first is a module, the second a functional call). */
const EXPECTED: Record<string, string> = {
  elu: 'elu(0.7)',
  gelu: 'gelu',
  gelu_tanh: 'gelu(tanh)',
  hardsigmoid: 'hardsigmoid',
  hardswish: 'hardswish',
  hardtanh: 'hardtanh(-2, 2.5)',
  log_softmax: 'relu',
  mish: 'mish',
  prelu: 'leaky_relu',
  // a slope per channel: prelu(y) = relu(y) − a·relu(−y), folded into the Linears around it (twice the width)
  prelu_channels: 'relu',
  relu6: 'hardtanh(0, 6)',
  silu: 'silu',
  softplus: 'softplus(20)',
}
const PRECISION = { fraction: 20, weightBytes: 4, inputBytes: 4 }
const TOLERANCE = 1e-4

function specs(dir: string, layers: string[]): [string, ModelSpec][] {
  const f = (n: string) => path.join(dir, n)
  return [
    ['onnx', { path: f('model.onnx') }],
    ['state_dict .pt + model.py', { path: f('model.state_dict.pt'), source: f('model.py'), class: 'Net' }],
    ['state_dict .pt + layers', { path: f('model.state_dict.pt'), layers }],
    ['whole-model .pt', { path: f('model.whole.pt') }],
    ['TorchScript trace', { path: f('model.trace.pt') }],
    ['TorchScript script', { path: f('model.script.pt') }],
  ]
}

let s: ChainSession
fileChain((c) => (s = c))
const figures: string[] = []

describe('new activations: every format reads alike; on chain equals the simulator and PyTorch', () => {
  test('the fixtures are all there', () => expect(NAMES).toEqual(Object.keys(EXPECTED).sort()))
  for (const name of NAMES)
    test(name, async () => {
      const dir = path.join(ROOT, name)
      const meta = JSON.parse(readFileSync(path.join(dir, 'meta.json'), 'utf8')) as { layers: string[] }
      const torch = pytorchOutputs(dir)
      const data = await readAllRows(path.join(dir, 'test.csv'), { label: 'label' })
      const blobs = new Set<string>()
      for (const [format, spec] of specs(dir, meta.layers)) {
        const m = await loadModel(spec)
        const acts = m.layers.map((l) => describeActivation(l.activation))
        expect(acts[0]!.startsWith(EXPECTED[name]!), `${format}: ${acts}`).toBe(true)
        expect(acts[1]!.startsWith(EXPECTED[name]!), `${format}: ${acts}`).toBe(true)
        expect(acts[2]).toBe(name === 'log_softmax' ? 'log_softmax' : 'identity')
        // the float reference is PyTorch's function (float32 noise only)
        data.features.forEach((x, i) => referenceForward(m, x).forEach((v, j) => expect(Math.abs(v - torch[i]![j]!)).toBeLessThan(2e-5)))
        blobs.add(Buffer.from(encodeWeights(makePlan(m, PRECISION))).toString('hex'))
      }
      expect(blobs.size).toBe(1)
      const model = await loadModel({ path: path.join(dir, 'model.onnx') })
      const plan = makePlan(model, PRECISION)
      const c = compileSolidity(generateSolidity(plan, { contractName: 'A' }), 'A')
      const { address } = await deployModel(s, c.bytecode, c.abi)
      const blob = encodeWeights(plan)
      if (!embedsWeights(plan)) await uploadWeights(s, address, c.abi, blob, chunkSizes(blob.length))
      const rows = data.features.map((f) => (encodeRow(plan, f) as { values: bigint[] }).values)
      const res = await predictBatchTx(s, address, c.abi, plan, rows, 'batch', BigInt(s.txGasCap))
      let maxErr = 0
      res.outputs.forEach((raw, i) => {
        expect(raw).toEqual(simulate(plan, rows[i]!))
        const got = raw.map((v) => Number(v) / 2 ** 20)
        const t = torch[i]!
        got.forEach((v, j) => (maxErr = Math.max(maxErr, Math.abs(v - t[j]!))))
        expect(got.indexOf(Math.max(...got))).toBe(t.indexOf(Math.max(...t)))
      })
      figures.push(`${name}: max |chain − PyTorch| ${maxErr.toExponential(2)} over ${rows.length} rows, ${res.tx.gasUsed} gas`)
      console.log(figures.at(-1))
      expect(maxErr).toBeLessThan(TOLERANCE)
    }, 300_000)
})
