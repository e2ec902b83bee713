// precision.inputs: auto — the narrowest calldata encoding that keeps every test row and PyTorch's class on
// every row. Checked against PyTorch's own outputs (each fixture's reference.csv, ML2SC's outputs file).
import { describe, expect, test } from 'bun:test'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { loadConfig } from '../../src/config/loadConfig.ts'
import { readAllRows } from '../../src/data/readCsv.ts'
import { encodeRow, interpret, safeInputRange } from '../../src/fixed/encodeRows.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import type { ModelIR } from '../../src/ir/types.ts'
import { chooseInputs, inputCandidates } from '../../src/pipeline/autoInputs.ts'
import { prepareModel } from '../../src/pipeline/prepareModel.ts'
import { ANCHORS, FIXTURES } from '../helpers/paths.ts'
import { readCsv } from '../model/helpers.ts'

const SPEC = { fraction: 20, weightBytes: 2, inputBytes: 4 }
const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-auto-inputs-'))

describe('candidates', () => {
  test('[0, 1] features: unsigned, 2× headroom: uint8 at 2^7, uint16 at 2^15, uint24 at 2^20 (the activation scale)', () => {
    expect(inputCandidates(SPEC, { min: 0, max: 1 })).toEqual([
      { inputBytes: 1, inputFraction: 7, inputUnsigned: true },
      { inputBytes: 2, inputFraction: 15, inputUnsigned: true },
      { inputBytes: 3 },
    ])
  })
  test('signed features up to |5|: int8 at 2^3, int16 at 2^11, int24 at 2^19, int32 at 2^20', () => {
    expect(inputCandidates(SPEC, { min: -5, max: 3 })).toEqual([
      { inputBytes: 1, inputFraction: 3 },
      { inputBytes: 2, inputFraction: 11 },
      { inputBytes: 3, inputFraction: 19 },
      { inputBytes: 4 },
    ])
  })
  test('a decimal scale keeps inputs at 10^d and only narrows the width', () => {
    expect(inputCandidates({ ...SPEC, fraction: 20, decimals: 18 }, { min: -3, max: 3 })[0]).toEqual({ inputBytes: 8 }) // ±6e18 < 2^63
  })
})

describe('never trades away a class', () => {
  // y = 0.01·x − 0.003008, class = y > 0; x = 0.30133 is 5 ulps (at 2^20) above the boundary
  const model: ModelIR = { format: 'synthetic', inputSize: 1, layers: [{ name: 'edge', weight: [[0.01]], bias: [-0.003008], activation: { kind: 'identity' } }] }
  const rows = [[0.30133], [0.1], [0.2]]
  test('uint8 would flip the knife-edge row (its error is only 6e-6): auto takes uint16', () => {
    const narrow = makePlan(model, { ...SPEC, inputBytes: 1, inputFraction: 8, inputUnsigned: true })
    const enc = encodeRow(narrow, rows[0]!)
    expect(enc.ok).toBe(true)
    expect(interpret(narrow, 'binary', simulate(narrow, (enc as { values: bigint[] }).values))).toBe(0)
    const { plan } = chooseInputs(model, SPEC, 'binary', rows)
    expect(plan.inputBytes).toBe(2)
    expect(plan.inputUnsigned).toBe(true)
    const chosen = encodeRow(plan, rows[0]!) as { values: bigint[] }
    expect(interpret(plan, 'binary', simulate(plan, chosen.values))).toBe(1)
  })
  test("PyTorch's outputs (data.reference) decide which classes there are to keep", () => {
    // had PyTorch put the knife-edge row on the other side, int32 inputs would not match it either: nothing to keep, uint8 will do
    const reference = [[-1e-7], [-0.002], [-0.001]]
    expect(chooseInputs(model, SPEC, 'binary', rows, undefined, reference).plan.inputBytes).toBe(1)
    expect(chooseInputs(model, SPEC, 'binary', rows, undefined, [[1e-7], [-0.002], [-0.001]]).plan.inputBytes).toBe(2)
  })
})

describe('PyTorch fixtures at the default precision (inputs: auto)', () => {
  // CNNs too: their first conv reads the inputs at 2^Fin
  for (const name of ['bc_sigmoid', 'diabetes_reg', 'digits_bn', 'iris_logits', 'iris_softmax', 'wine_tanh_leaky', 'cnn_mnist28', 'cnn_digits8', 'cnn_depthwise', 'cnn_signal1d']) {
    test(`${name}: narrower than int32, no row refused, PyTorch's class on every row`, async () => {
      const file = path.join(dir, `${name}.yaml`)
      writeFileSync(file, `model:\n  path: ${path.join(FIXTURES, name, 'model.onnx')}\ndata:\n  test: ${path.join(FIXTURES, name, 'test.csv')}\n  label: label\n`)
      const prep = await prepareModel(await loadConfig(file))
      expect(prep.plan.inputBytes).toBeLessThan(4)
      const data = await readAllRows(path.join(FIXTURES, name, 'test.csv'), { label: 'label', requireLabel: false, features: prep.model.inputSize })
      const torch = readCsv(path.join(FIXTURES, name, 'reference.csv')).rows.map((r) => r.slice(1))
      const [lo, hi] = safeInputRange(prep.plan)
      data.features.forEach((f, i) => {
        // 2× headroom: the half-open range [−2m, 2m) or [0, 2m) holds twice the largest feature m
        const ulp = 2 ** -(prep.plan.inputFraction ?? prep.plan.F)
        f.forEach((x) => expect(Math.abs(x) * 2 <= Math.max(Math.abs(lo), Math.abs(hi)) + ulp).toBe(true))
        const enc = encodeRow(prep.plan, f)
        expect(enc.ok).toBe(true)
        if (prep.task === 'regression') return
        const raw = simulate(prep.plan, (enc as { values: bigint[] }).values)
        const t = torch[i]!
        const want = prep.task === 'multiclass' ? t.indexOf(Math.max(...t)) : prep.plan.layers.at(-1)!.activation.kind === 'sigmoid' ? Number(t[0]! > 0.5) : Number(t[0]! > 0)
        expect(interpret(prep.plan, prep.task, raw)).toBe(want)
      })
    })
  }

  test("ML2SC's 30-4-1 on its [0, 1] features: uint16 at 2^15, safe range [0, 2), PyTorch's class on all 50 rows", async () => {
    const file = path.join(dir, 'ml2sc.yaml')
    writeFileSync(
      file,
      `model:\n  path: ${path.join(ANCHORS, 'weights/MLP_2L4.json')}\n  source: ${path.join(ANCHORS, 'models.py')}\n  class: MLP_2L4\ndata:\n  test: ${path.join(ANCHORS, 'processed_data.csv')}\n  label: diagnosis\n  drop: [id]\n  limit: 50\n`,
    )
    const prep = await prepareModel(await loadConfig(file))
    expect({ bytes: prep.plan.inputBytes, fraction: prep.plan.inputFraction, unsigned: prep.plan.inputUnsigned }).toEqual({ bytes: 2, fraction: 15, unsigned: true })
    expect(safeInputRange(prep.plan)).toEqual([0, 65535 / 32768])
    const data = await readAllRows(path.join(ANCHORS, 'processed_data.csv'), { label: 'diagnosis', drop: ['id'], limit: 50 })
    const torch = (await Bun.file(path.join(ANCHORS, 'reference/MLP_2L4.outputs.csv')).text()).trim().split('\n').map(Number)
    data.features.forEach((f, i) => {
      const enc = encodeRow(prep.plan, f) as { values: bigint[] }
      expect(interpret(prep.plan, 'binary', simulate(prep.plan, enc.values))).toBe(torch[i]! > 0.5 ? 1 : 0)
    })
  })
})
