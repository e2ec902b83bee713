// Issue 14's gas target, measured on a real anvil with the EIP-7825 cap: the MNIST-shaped CNN (conv 1→8 5×5,
// max-pool 2, conv 8→16 5×5, avg-pool 2, linear 256→10; 5,994 parameters, 322,560 MACs) answers one
// `predict` in ONE transaction for ≤ 4,000,000 gas, and its weights upload under the cap.
import { describe, expect, test } from 'bun:test'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { readAllRows } from '../../src/data/readCsv.ts'
import { encodeRow, interpret } from '../../src/fixed/encodeRows.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import { DEFAULT_TOLERANCE, tolerancePerOutput } from '../../src/fixed/tolerance.ts'
import { pinOf, specOf, weightWidthsOf } from '../../src/fixed/types.ts'
import { encodeWeights } from '../../src/codegen/weights/weightBlob.ts'
import { macsOf } from '../../src/ir/tensorShapes.ts'
import { loadConfig } from '../../src/config/loadConfig.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import { autoPlan, prepareModel } from '../../src/pipeline/prepareModel.ts'
import { heldOutCount } from '../../src/pipeline/calibrationRows.ts'
import { taskOf } from '../../src/ir/taskOf.ts'
import type { ModelIR } from '../../src/ir/types.ts'
import { deployCnn } from '../helpers/deployCnn.ts'
import { FIXTURES } from '../helpers/paths.ts'
import { fileChain, TX_GAS_CAP } from '../helpers/fileChain.ts'
import { pytorchOutputs } from '../helpers/pytorchOutputs.ts'

const CAP = TX_GAS_CAP
let s: ChainSession
fileChain((c) => (s = c))

describe('CNN gas bounds', () => {
  test('MNIST-shaped CNN: one predict ≤ 2,184,671 / 2,214,965 gas (int16 / int24 weights; issue 14 set 4,000,000), upload under the cap, exact', async () => {
    const dir = path.join(FIXTURES, 'cnn_mnist28')
    const model = await loadModel({ path: path.join(dir, 'model.onnx') })
    expect(model.tensorLayers!.reduce((a, l) => a + macsOf(l), 0) + 2560).toBe(322_560)
    const data = await readAllRows(path.join(dir, 'test.csv'), { label: 'label' })
    for (const weightBytes of [2, 3]) {
      const plan = makePlan(model, { fraction: 20, weightBytes, inputBytes: 4 })
      const c = await deployCnn(s, plan, `Mnist${weightBytes}`)
      expect(c.compiled.runtimeBytes).toBeLessThanOrEqual(24_576)
      expect(c.uploads.length).toBeGreaterThan(0)
      for (const u of c.uploads) expect(u.gasUsed).toBeLessThan(CAP)
      const row = (encodeRow(plan, data.features[0]!) as { values: bigint[] }).values
      const gas = await c.predictTxGas(row)
      console.log(`MNIST-shaped CNN, int${8 * weightBytes} weights: one predict ${gas.toLocaleString('en-US')} gas; upload ${c.uploads.reduce((a, u) => a + u.gasUsed, 0).toLocaleString('en-US')} in ${c.uploads.length} tx; code ${c.compiled.runtimeBytes} bytes`)
      // issue 23: the input decode unrolled by 8 (~40 gas per pixel less): 2,864,989 / 2,888,420 before;
      // conv weights in packets, lane words in four operations each (convPackets.ts): 2,823,154 / 2,846,585 before
      // lane groups sharing their input loads, a fused pool's window row side by side, dead tensors' memory reused
      // (convSharedInputs.ts, convMemory.ts): 2,678,362 / 2,720,854 before; conv lanes offset to unsigned in every
      // step (biasedLanes.ts) and conv2's average pool fused in (avgFusion.ts): 2,269,357 / 2,309,580 before
      expect(gas).toBeLessThanOrEqual(weightBytes === 2 ? 2_184_671 : 2_214_965)
      expect((await c.predict(row)).map(String)).toEqual(simulate(plan, row).map(String))
    }
  }, 900_000)

  test('MNIST-shaped CNN at int8 weights, int16 inputs at 2^12: one predict ≤ 1,353,452 gas, PyTorch\'s class on every test row', async () => {
    const dir = path.join(FIXTURES, 'cnn_mnist28')
    const model = await loadModel({ path: path.join(dir, 'model.onnx') })
    const data = await readAllRows(path.join(dir, 'test.csv'), { label: 'label' })
    const torch = pytorchOutputs(dir)
    // narrower lanes: 8 × 32 bits in both convolutions (interval analysis over the int16 input range)
    const plan = makePlan(model, { fraction: 12, weightBytes: 1, inputBytes: 2 })
    expect(plan.tensorLayers!.flatMap((l) => (l.kind === 'conv' ? [l.lanes] : []))).toEqual([8, 8])
    const c = await deployCnn(s, plan, 'Mnist8')
    const rows = data.features.map((f) => (encodeRow(plan, f) as { values: bigint[] }).values)
    const gas = await c.predictTxGas(rows[0]!)
    console.log(`MNIST-shaped CNN, int8 weights, int16 inputs at 2^12: one predict ${gas.toLocaleString('en-US')} gas`)
    // issue 23: 1,670,107 before the input decode was unrolled by 8, 1,628,272 before the conv weights' packets
    // one lane group per conv here (8 × 32 bits): 1,485,335 before the shared input loads (a window row's positions side by side);
    // 1,436,578 before the unsigned lanes and the fused average pool
    expect(gas).toBeLessThanOrEqual(1_353_452)
    const outputs: (readonly bigint[])[] = []
    for (let at = 0; at < rows.length; at += 4) outputs.push(...(await c.batch(rows.slice(at, at + 4))).outputs)
    outputs.forEach((raw, i) => {
      expect(raw.map(String)).toEqual(simulate(plan, rows[i]!).map(String))
      expect(interpret(plan, 'multiclass', [...raw])).toBe(torch[i]!.indexOf(Math.max(...torch[i]!)))
    })
  }, 900_000)

  // Issue 18: auto takes int8 only when every output stays within precision.tolerance on its calibration rows.
  // int8 moves this CNN's logits by 1.2% of their range (more on its 6 calibration rows' range), beyond the
  // default 1%: int16 weights (the last test; int24 before issue 23). With the tolerance at 3%, auto
  // chooses int8 and uint16 inputs at 2^20; fraction: auto then finds 2^12 refused for uniform int8 and chooses
  // the widths again there (chooseFraction.ts Refit): int8 convs, an int16 head, the 1% plan. A looser tolerance
  // is never dearer (1,678,861 before, int8 kept at 2^20).
  test('MNIST-shaped CNN, auto precision at precision.tolerance 3%: the default\'s plan at 2^12, one predict ≤ 1,355,406 gas (1,678,861 at int8 and 2^20 before, 2.03M before issue 23), exact, PyTorch\'s class kept', async () => {
    const dir = path.join(FIXTURES, 'cnn_mnist28')
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'ml2sc-cnn-default-')), 'ml2sc.yaml')
    writeFileSync(file, `model:\n  path: ${dir}/model.onnx\ndata:\n  test: ${dir}/test.csv\n  label: label\n  reference: ${dir}/reference.csv\nprecision:\n  tolerance: 3%\n`)
    const { plan, task } = await prepareModel(await loadConfig(file))
    expect(weightWidthsOf(plan)).toEqual([1, 1, 2])
    // inputs: auto applies to CNNs: [0, 1] pixels as uint16, read by the first conv, at the activations' 2^12
    expect([plan.F, plan.inputBytes, plan.inputFraction, plan.inputUnsigned]).toEqual([12, 2, undefined, true])
    const data = await readAllRows(path.join(dir, 'test.csv'), { label: 'label' })
    const torch = pytorchOutputs(dir)
    const c = await deployCnn(s, plan, 'MnistDefault')
    const rows = data.features.map((f) => (encodeRow(plan, f) as { values: bigint[] }).values)
    const gas = await c.predictTxGas(rows[0]!)
    console.log(`MNIST-shaped CNN, default precision (int${8 * plan.weightBytes} weights, ${plan.inputUnsigned ? 'u' : ''}int${8 * plan.inputBytes} inputs at 2^${plan.inputFraction ?? plan.F}): one predict ${gas.toLocaleString('en-US')} gas`)
    // conv2 reads activations at 2^20: 40-bit lanes (6 per word) bound it above the 2^12 plan's 1.63M;
    // issue 23: 2,033,523 before the input decode was unrolled by 8, 1,991,688 before the conv weights' packets
    // 1,840,939 before the lane groups shared their input loads; 1,678,861 before fraction: auto chose the widths again at 2^12
    expect(gas).toBeLessThanOrEqual(1_355_406)
    const outputs: (readonly bigint[])[] = []
    for (let at = 0; at < rows.length; at += 4) outputs.push(...(await c.batch(rows.slice(at, at + 4))).outputs)
    let kept = 0
    outputs.forEach((raw, i) => {
      expect(raw.map(String)).toEqual(simulate(plan, rows[i]!).map(String))
      if (interpret(plan, task, [...raw]) === torch[i]!.indexOf(Math.max(...torch[i]!))) kept++
    })
    expect(kept).toBe(rows.length)
  }, 900_000)

  // issue 23: at the default tolerance (1%) auto judges this classifier's logits by the tolerance alone
  // (prepareModel.ts): int16 weights (int24 before, 2,715,552), uint16 pixels; int8 everywhere stays out (1.2% > 1%),
  // but per layer (narrowLayers.ts) both convs take int8 and the Linear head keeps int16
  test('MNIST-shaped CNN at the default config (int8/int8/int16 weights per layer, activations and uint16 inputs at 2^12): one predict ≤ 1,355,406 gas, exact, PyTorch\'s class and the 1% tolerance on every row', async () => {
    const dir = path.join(FIXTURES, 'cnn_mnist28')
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'ml2sc-cnn-default-')), 'ml2sc.yaml')
    writeFileSync(file, `model:\n  path: ${dir}/model.onnx\ndata:\n  test: ${dir}/test.csv\n  label: label\n  reference: ${dir}/reference.csv\n`)
    const { plan, task } = await prepareModel(await loadConfig(file))
    // precision.fraction: auto (chooseFraction.ts): at 2^12 conv2's accumulators fit 8 lanes a word, not 6 (40,512
    // lane words a row against 53,568 at 2^20), and the calibration rows keep the gate; the inputs follow to 2^12
    expect([plan.F, plan.weightBytes, plan.inputBytes, plan.inputFraction, plan.inputUnsigned]).toEqual([12, 2, 2, undefined, true])
    expect(weightWidthsOf(plan)).toEqual([1, 1, 2])
    expect(plan.tensorLayers!.flatMap((l) => (l.kind === 'conv' ? [l.lanes] : []))).toEqual([8, 8])
    const data = await readAllRows(path.join(dir, 'test.csv'), { label: 'label' })
    const torch = pytorchOutputs(dir)
    const tolerance = tolerancePerOutput(DEFAULT_TOLERANCE, torch, 10)
    const c = await deployCnn(s, plan, 'MnistDefault1')
    const rows = data.features.map((f) => (encodeRow(plan, f) as { values: bigint[] }).values)
    const gas = await c.predictTxGas(rows[0]!)
    console.log(`MNIST-shaped CNN, default config: one predict ${gas.toLocaleString('en-US')} gas`)
    // 2,666,200 before the lane groups shared their input loads; 2,257,229 at uniform int16 before conv1 ran on
    // row lanes (rowLanesPlan.ts: 8 channels × 2 words of 6 pooled positions per row, against lane groups of 6 + 2
    // channels, the pixels decoded straight into packed row words) and before per-layer widths; 1,698,829 at 2^20
    // (conv2 on 6 lanes of 40 bits) before precision.fraction: auto; 1,439,014 before conv2's average pool was fused in
    // (avgFusion.ts: its 16×8×8 output never reaches memory) and every conv's lanes were offset to unsigned (biasedLanes.ts)
    expect(gas).toBeLessThanOrEqual(1_355_406)
    const outputs: (readonly bigint[])[] = []
    for (let at = 0; at < rows.length; at += 4) outputs.push(...(await c.batch(rows.slice(at, at + 4))).outputs)
    outputs.forEach((raw, i) => {
      expect(raw.map(String)).toEqual(simulate(plan, rows[i]!).map(String))
      expect(interpret(plan, task, [...raw])).toBe(torch[i]!.indexOf(Math.max(...torch[i]!)))
      // the default tolerance (1% of each logit's range over PyTorch's outputs) on every row, seen or not
      raw.forEach((v, j) => expect(Math.abs(Number(v) / Number(plan.scale) - torch[i]![j]!)).toBeLessThanOrEqual(tolerance[j]!))
    })
  }, 900_000)

  // issue 23: the same network with a softmax output. Its probabilities are values, not logits: `weights: auto`
  // keeps them within AUTO_ERROR_TARGET (5e-5, half issue 5's 1e-4 bound: prepareModel.ts autoPlan, the branch
  // for models that are not int8Eligible), which int16 misses here, so auto takes int24.
  test('MNIST-shaped CNN with a softmax output at the precision auto picks (int24): one predict ≤ 1,991,192 gas (issue 23 aims at 2,000,000), exact', async () => {
    const dir = path.join(FIXTURES, 'cnn_mnist28')
    const logits = await loadModel({ path: path.join(dir, 'model.onnx') })
    const last = logits.layers[logits.layers.length - 1]!
    const model: ModelIR = { ...logits, layers: [...logits.layers.slice(0, -1), { ...last, activation: { kind: 'softmax' } }] }
    const data = await readAllRows(path.join(dir, 'test.csv'), { label: 'label' })
    const probs = pytorchOutputs(dir).map((z) => {
      const e = z.map((v) => Math.exp(v - Math.max(...z)))
      return e.map((v) => v / e.reduce((a, b) => a + b, 0))
    })
    const n = heldOutCount(data.features.length)
    const range = { min: Math.min(...data.features.flat()), max: Math.max(...data.features.flat()) }
    const { plan } = autoPlan(model, taskOf(model), { weights: 'auto', inputs: 'auto' }, { rows: data.features.slice(0, n), range }, probs.slice(0, n))
    expect([plan.weightBytes, plan.inputBytes, plan.inputFraction, plan.inputUnsigned]).toEqual([3, 2, 15, true])
    // fitRowLanes.ts: conv1's weights one bit coarser (wShift 17, not 18) narrow its 42-bit row lanes' ranges below
    // 2^41, so its fused max pool merges with one SWAR compare on the stack, not the even/odd maxima through memory
    expect(plan.tensorLayers!.flatMap((l) => (l.kind === 'conv' ? [l.wShift] : []))).toEqual([17, 23])
    // and the contract's pins (plan.json) rebuild that plan for verify and update
    expect(encodeWeights(makePlan(model, specOf(plan), pinOf(plan)))).toEqual(encodeWeights(plan))
    const c = await deployCnn(s, plan, 'MnistSoftmax')
    const rows = data.features.slice(0, 2).map((f) => (encodeRow(plan, f) as { values: bigint[] }).values)
    const gas = await c.predictTxGas(rows[0]!)
    console.log(`MNIST-shaped CNN, softmax output (int24 weights, uint16 inputs at 2^15): one predict ${gas.toLocaleString('en-US')} gas`)
    // 2,711,286 before the lane groups shared their input loads (convSharedInputs.ts); 2,301,802 before conv1
    // ran on row lanes of 42 bits: its uint16 pixels bound each channel's accumulator to [lo, hi], a range
    // 2^42 wide where ±|acc|max needs 48-bit lanes (rowLanesPlan.ts), so 6 pooled positions per word; 2,155,407 before
    // the fc's unused 32 KB of packed-lane memory went (2,066,199 with fitRowLanes' one compare), the unsigned lanes
    // (2,051,119) and conv2's fused average pool (1,996,952)
    expect(gas).toBeLessThanOrEqual(1_991_192)
    for (const row of rows) expect((await c.predict(row)).map(String)).toEqual(simulate(plan, row).map(String))
  }, 900_000)
})
