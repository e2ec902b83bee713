// Issue 5's acceptance against PyTorch itself (each fixture's reference.csv holds PyTorch's float32
// outputs), at the default precision (whatever the config schema defaults to): 100% class agreement on
// every fixture, output maxAbs ≤ 1e-4 on the sigmoid, tanh and leaky-relu models. The simulator stands
// for the chain here (test/fuzz/differential.test.ts proves them equal bit for bit); then one real
// `ml2sc run` checks that report.json's error and agreement figures are what they claim to be.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { loadConfig } from '../../src/config/loadConfig.ts'
import { readAllRows } from '../../src/data/readCsv.ts'
import { encodeRow, interpret } from '../../src/fixed/encodeRows.ts'
import { simulate, simulateLayers } from '../../src/fixed/simulate.ts'
import type { Plan } from '../../src/fixed/types.ts'
import type { ModelIR, Task } from '../../src/ir/types.ts'
import { prepareModel } from '../../src/pipeline/prepareModel.ts'
import { FIXTURES, runCli } from '../helpers/paths.ts'
import { forward, readCsv } from '../model/helpers.ts'

const FIXTURE_NAMES = ['bc_sigmoid', 'diabetes_reg', 'digits_bn', 'iris_logits', 'iris_softmax', 'wine_tanh_leaky']
/** The acceptance's "sigmoid, tanh and leaky-relu models", and the regression model (its value is its answer). */
const BOUNDED = ['bc_sigmoid', 'wine_tanh_leaky', 'diabetes_reg']
/** A regression row agrees with PyTorch when its value is this close (report.json's rule). */
const REGRESSION_AGREEMENT = 1e-3

let dir: string
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-fidelity-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** A config with nothing but the model and the test set: every precision setting is the default. */
function configFor(name: string, extra = ''): string {
  const file = path.join(dir, `${name}.yaml`)
  writeFileSync(file, `model:\n  path: ${path.join(FIXTURES, name, 'model.onnx')}\ndata:\n  test: ${path.join(FIXTURES, name, 'test.csv')}\n  label: label\n${extra}output: ${path.join(dir, name)}\n`)
  return file
}

function torchClass(task: Task, plan: Plan, y: number[]): number {
  if (task === 'multiclass') return y.indexOf(Math.max(...y))
  return plan.layers[plan.layers.length - 1]!.activation.kind === 'sigmoid' ? (y[0]! > 0.5 ? 1 : 0) : y[0]! > 0 ? 1 : 0
}

type Measured = { model: ModelIR; plan: Plan; task: Task; features: number[][]; labels: (number | undefined)[]; torch: number[][]; raw: bigint[][]; maxAbs: number; agree: number }

async function measure(name: string): Promise<Measured> {
  const { model, plan, task } = await prepareModel(await loadConfig(configFor(name)))
  const { features, labels } = await readAllRows(path.join(FIXTURES, name, 'test.csv'), { label: 'label' })
  const torch = readCsv(path.join(FIXTURES, name, 'reference.csv')).rows.map((r) => r.slice(1))
  expect(torch.length).toBe(features.length)
  let maxAbs = 0
  let agree = 0
  const raw = features.map((f, i) => {
    const enc = encodeRow(plan, f)
    if (!enc.ok) throw new Error(`${name} row ${i}: ${enc.error}`)
    const out = simulate(plan, enc.values)
    out.forEach((v, j) => (maxAbs = Math.max(maxAbs, Math.abs(Number(v) / 2 ** plan.F - torch[i]![j]!))))
    if (task === 'regression' ? Math.abs(Number(out[0]!) / 2 ** plan.F - torch[i]![0]!) <= REGRESSION_AGREEMENT : interpret(plan, task, out) === torchClass(task, plan, torch[i]!)) agree++
    return out
  })
  return { model, plan, task, features, labels, torch, raw, maxAbs, agree }
}

describe('fidelity to PyTorch at the default precision', () => {
  for (const name of FIXTURE_NAMES)
    test(`${name}: 100% ${name === 'diabetes_reg' ? 'agreement (within 1e-3)' : 'class agreement'} with PyTorch${BOUNDED.includes(name) ? ', output maxAbs ≤ 1e-4' : ''}`, async () => {
      const m = await measure(name)
      const precision = `F=${m.plan.F}, int${8 * m.plan.weightBytes} weights, int${8 * m.plan.inputBytes} inputs`
      expect(`${name}: ${m.agree}/${m.features.length} rows agree (${precision})`).toBe(`${name}: ${m.features.length}/${m.features.length} rows agree (${precision})`)
      if (BOUNDED.includes(name)) {
        // on failure the message carries the measured figure and the precision it was measured at
        expect(`${name}: maxAbs ${m.maxAbs.toExponential(3)} vs PyTorch (${precision}) ≤ 1e-4: ${m.maxAbs <= 1e-4}`).toBe(
          `${name}: maxAbs ${m.maxAbs.toExponential(3)} vs PyTorch (${precision}) ≤ 1e-4: true`,
        )
      }
    })
})

describe('report.json figures on a real run', () => {
  test('wine_tanh_leaky with data.reference: error.maxAbs/meanAbs/histogram and agreement against PyTorch, perLayer against the float pass, recomputed independently', async () => {
    const cfg = configFor('wine_tanh_leaky', `  reference: ${path.join(FIXTURES, 'wine_tanh_leaky', 'reference.csv')}\n`)
    const out = path.join(dir, 'wine-run')
    const r = await runCli(['run', cfg, '--out', out, '--quiet'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'))
    const m = await measure('wine_tanh_leaky')
    const F = m.plan.F
    type P = { row: number; label: number; onchain: number; reference: number; raw: string[] }
    const preds = report.predictions as P[]
    expect(preds.length).toBe(m.features.length)

    // the chain's raw outputs are the simulator's, and its classes are PyTorch's
    preds.forEach((p, i) => {
      expect(p.raw).toEqual(m.raw[i]!.map(String))
      expect(p.onchain).toBe(torchClass(m.task, m.plan, m.torch[i]!))
    })
    expect(report.simulator.mismatches).toBe(0)

    // error.* against PyTorch's own outputs (data.reference)
    expect(report.reference).toMatchObject({ source: 'pytorch-csv', architecture: 'file' })
    // accuracy, agreement and error.* are over the rows precision: auto did not choose on (issue 18)
    const ex = report.accuracy.rows.excluded as { first: number; last: number; count: number } | null
    expect(ex).toEqual(report.precision.calibration && { first: report.precision.calibration.first, last: report.precision.calibration.last, count: report.precision.calibration.count })
    const counted = (row: number) => !ex || row < ex.first || row > ex.last
    expect(report.accuracy.rows.count).toBe(preds.filter((p) => counted(p.row)).length)
    const errs: number[] = []
    let floatMax = 0
    preds.forEach((p, i) => {
      const ref = forward(m.model, m.features[i]!)
      p.raw.forEach((v, j) => {
        if (counted(p.row)) errs.push(Math.abs(Number(v) / 2 ** F - m.torch[i]![j]!))
        floatMax = Math.max(floatMax, Math.abs(Number(v) / 2 ** F - ref[j]!))
      })
    })
    const maxAbs = Math.max(...errs)
    const meanAbs = errs.reduce((a, b) => a + b, 0) / errs.length
    expect(report.error.maxAbs).toBeCloseTo(maxAbs, 8)
    expect(report.error.meanAbs).toBeCloseTo(meanAbs, 8)
    expect(report.error.maxAbs).toBeGreaterThan(0)

    // histogram: one count per output, in decade bins (e ≤ edge), the last bin > the last edge
    const { edges, counts } = report.error.histogram as { edges: number[]; counts: number[] }
    expect(counts.length).toBe(edges.length + 1)
    expect(counts.reduce((a, b) => a + b, 0)).toBe(errs.length)
    const mine = new Array(edges.length + 1).fill(0)
    for (const e of errs) {
      const b = edges.findIndex((x) => e <= x)
      mine[b < 0 ? edges.length : b]++
    }
    expect(counts).toEqual(mine)

    // perLayer: every layer's fixed-point outputs against the float pass, layer by layer
    const layerMax = m.plan.layers.map(() => 0)
    m.features.forEach((f) => {
      const q = simulateLayers(m.plan, (encodeRow(m.plan, f) as { values: bigint[] }).values)
      let x = f
      m.model.layers.forEach((layer, l) => {
        x = forward({ format: 'x', inputSize: x.length, layers: [layer] }, x)
        x.forEach((v, j) => (layerMax[l] = Math.max(layerMax[l]!, Math.abs(Number(q[l]![j]!) / 2 ** F - v))))
      })
    })
    expect(report.error.perLayer.map((l: { name: string }) => l.name)).toEqual(m.model.layers.map((l) => l.name))
    report.error.perLayer.forEach((l: { maxAbs: number }, i: number) => expect(l.maxAbs).toBeCloseTo(layerMax[i]!, 8))
    expect(report.error.perLayer[report.error.perLayer.length - 1].maxAbs).toBeCloseTo(floatMax, 8)

    // agreement with PyTorch's classes, and accuracy against the labels
    const refClass = m.torch.map((y) => torchClass(m.task, m.plan, y))
    const n = report.accuracy.rows.count
    const agree = preds.filter((p, i) => counted(p.row) && p.onchain === refClass[i]).length / n
    expect(report.accuracy.agreement).toBeCloseTo(agree, 6)
    expect(report.accuracy.agreement).toBe(1)
    expect(report.accuracy.onchain).toBeCloseTo(preds.filter((p, i) => counted(p.row) && p.onchain === m.labels[i]).length / n, 6)
    expect(report.accuracy.reference).toBeCloseTo(refClass.filter((c, i) => counted(preds[i]!.row) && c === m.labels[i]).length / n, 6)
    // the fidelity gate over every row: within 1% of each output's range
    expect(report.fidelity).toMatchObject({ enforced: true, within: true, rows: preds.length })
  })
})
