// Issue 3's acceptance, on chain: for every fixture (multi-class with softmax and with raw logits, binary
// sigmoid, regression, tanh/leaky-relu, BatchNorm+Dropout) and EVERY format PyTorch wrote it in, the
// contract's answers equal PyTorch's own outputs (class on every row; regression within 1e-3).
import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { deployModel } from '../../src/chain/deployModel.ts'
import { predictBatchTx } from '../../src/chain/evaluateOnChain.ts'
import { uploadWeights } from '../../src/chain/uploadWeights.ts'
import { embedsWeights, generateSolidity } from '../../src/codegen/generateSolidity.ts'
import { chunkSizes, encodeWeights } from '../../src/codegen/weights/weightBlob.ts'
import { compileSolidity } from '../../src/compile/compileSolidity.ts'
import { readAllRows } from '../../src/data/readCsv.ts'
import { encodeRow, interpret } from '../../src/fixed/encodeRows.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { taskOf } from '../../src/ir/taskOf.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import type { ModelSpec } from '../../src/model/types.ts'
import { FIXTURES } from '../helpers/paths.ts'
import { fileChain } from '../helpers/fileChain.ts'
import { pytorchOutputs } from '../helpers/pytorchOutputs.ts'

const MODELS = ['bc_sigmoid', 'iris_logits', 'iris_softmax', 'wine_tanh_leaky', 'diabetes_reg', 'digits_bn']
type Meta = { layers: string[]; class: string; task: 'binary' | 'multiclass' | 'regression' }

/** Every way the fixture script saved the model, with what each needs to know its architecture. */
function specs(dir: string, meta: Meta): [string, ModelSpec][] {
  const f = (n: string) => path.join(dir, n)
  const src = { source: f('model.py'), class: meta.class }
  return [
    ['onnx', { path: f('model.onnx') }],
    ['state_dict .pt + source', { path: f('model.state_dict.pt'), ...src }],
    ['state_dict .pt + layers', { path: f('model.state_dict.pt'), layers: meta.layers }],
    ['whole-model .pt', meta.class === 'BCNet' ? { path: f('model.whole.pt'), ...src } : { path: f('model.whole.pt') }],
    ['TorchScript trace', { path: f('model.trace.pt') }],
    ['TorchScript script', { path: f('model.script.pt') }],
    ['safetensors + layers', { path: f('model.safetensors'), layers: meta.layers }],
    ['JSON state_dict + source', { path: f('weights.json'), ...src }],
  ]
}

let s: ChainSession
fileChain((c) => (s = c))

describe('every format, on chain, equals PyTorch', () => {
  for (const name of MODELS) {
    test(name, async () => {
      const dir = path.join(FIXTURES, name)
      const meta: Meta = JSON.parse(readFileSync(path.join(dir, 'meta.json'), 'utf8'))
      const torch = pytorchOutputs(dir)
      const data = await readAllRows(path.join(dir, 'test.csv'), { label: 'label' })
      // int32 weights: the precision `auto` picks for the models where int16 is not accurate enough
      const precision = { fraction: 20, weightBytes: 4, inputBytes: 4 }
      const blobs = new Map<string, string>()
      for (const [format, spec] of specs(dir, meta)) blobs.set(format, Buffer.from(encodeWeights(makePlan(await loadModel(spec), precision))).toString('hex'))
      // every format quantises to the very same weights: one contract answers for all of them
      expect(new Set(blobs.values()).size).toBe(1)
      const model = await loadModel({ path: path.join(dir, 'model.onnx') })
      const plan = makePlan(model, precision)
      const task = taskOf(model)
      expect(task).toBe(meta.task)
      const c = compileSolidity(generateSolidity(plan, { contractName: 'F' }), 'F')
      const { address } = await deployModel(s, c.bytecode, c.abi)
      const blob = encodeWeights(plan)
      if (!embedsWeights(plan)) await uploadWeights(s, address, c.abi, blob, chunkSizes(blob.length))
      const rows = data.features.map((f) => (encodeRow(plan, f) as { values: bigint[] }).values)
      const res = await predictBatchTx(s, address, c.abi, plan, rows, 'batch')
      res.outputs.forEach((raw, i) => {
        const t = torch[i]!
        if (task === 'regression') expect(Math.abs(interpret(plan, task, raw) - t[0]!)).toBeLessThan(1e-3)
        else if (task === 'binary') expect(interpret(plan, task, raw)).toBe(t[0]! > 0.5 ? 1 : 0)
        else expect(interpret(plan, task, raw)).toBe(t.indexOf(Math.max(...t)))
      })
    })
  }
})
