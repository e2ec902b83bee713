// `ml2sc predict` as a user runs it: on chain (a deployment made on the fly, or the chain the last `run`
// left) and --offchain (the simulator) must print the same `rows`, byte for byte; rows outside the safe
// input range get the same error entry on both sides and are never sent.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { FIXTURES } from '../helpers/paths.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'
import { readCsv } from '../model/helpers.ts'

let dir: string
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-predict-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function setup(name: string, extra = '') {
  const cfg = path.join(dir, `${name}.yaml`)
  writeFileSync(cfg, `model:\n  path: ${path.join(FIXTURES, name, 'model.onnx')}\ndata:\n  test: ${path.join(FIXTURES, name, 'test.csv')}\n  label: label\noutput: ${path.join(dir, `${name}-out`)}\n${extra}`)
  const lines = readFileSync(path.join(FIXTURES, name, 'test.csv'), 'utf8').trim().split('\n')
  return { cfg, header: lines[0]!, rows: lines.slice(1) }
}

/** Replace feature 0 of a CSV line (features come first, the label last). */
const withFirst = (line: string, v: string) => [v, ...line.split(',').slice(1)].join(',')

type Rows = { rows: ({ prediction: number; raw: string[] } | { error: string })[] }

describe('ml2sc predict', () => {
  test('wine (tanh, leaky_relu): on chain (deployed on the fly) = --offchain, byte for byte; refused rows are errors on both sides', async () => {
    const { cfg, header, rows } = setup('wine_tanh_leaky')
    // test rows, then: just inside the safe range (precision.inputs: auto gives int24 at 2^19 here: [-16, 16)),
    // just outside, far outside, -inf (1e400 overflows)
    const extra = [withFirst(rows[0]!, '15.999998092651367'), withFirst(rows[1]!, '16'), withFirst(rows[2]!, '-5000'), withFirst(rows[3]!, '-1e400')]
    const input = path.join(dir, 'wine-rows.csv')
    writeFileSync(input, [header, ...rows, ...extra].join('\n') + '\n')

    const off = await runCliInProcess(['predict', cfg, '--input', input, '--offchain', '--json'])
    expect(off.stderr).toBe('')
    expect(off.code).toBe(0)
    const on = await runCliInProcess(['predict', cfg, '--input', input, '--json'])
    expect(on.code).toBe(0)
    expect(on.stderr).toContain('on the fly')
    expect(on.stdout).toBe(off.stdout)
    expect(on.stdout.trim().split('\n').length).toBe(1) // exactly one JSON object

    const res = JSON.parse(on.stdout) as Rows
    expect(Object.keys(res)).toEqual(['rows'])
    expect(res.rows.length).toBe(rows.length + 4)
    const torch = readCsv(path.join(FIXTURES, 'wine_tanh_leaky', 'reference.csv')).rows.map((r) => r.slice(1))
    rows.forEach((_, i) => {
      const r = res.rows[i] as { prediction: number; raw: string[] }
      expect(r.prediction).toBe(torch[i]!.indexOf(Math.max(...torch[i]!)))
      expect(r.raw.length).toBe(3)
      r.raw.forEach((v) => expect(v).toMatch(/^-?\d+$/))
    })
    const n = rows.length
    expect('prediction' in res.rows[n]!).toBe(true)
    for (const k of [1, 2, 3]) expect((res.rows[n + k] as { error: string }).error).toMatch(new RegExp(`^row ${n + k}: feature 0 \\('alcohol'\\)`))
    expect((res.rows[n + 1] as { error: string }).error).toContain('outside the safe input range')
    expect((res.rows[n + 3] as { error: string }).error).toContain('-Infinity')

    // without the label column: the same answers
    const noLabel = path.join(dir, 'wine-nolabel.csv')
    const strip = (l: string) => l.split(',').slice(0, -1).join(',')
    writeFileSync(noLabel, [strip(header), ...rows.map(strip), ...extra.map(strip)].join('\n') + '\n')
    const off2 = await runCliInProcess(['predict', cfg, '--input', noLabel, '--offchain', '--json'])
    expect(off2.code).toBe(0)
    expect(off2.stdout).toBe(off.stdout)

    // the readable table: one line per row, refused rows say why
    const table = await runCliInProcess(['predict', cfg, '--input', input, '--offchain'])
    expect(table.code).toBe(0)
    const lines = table.stdout.trim().split('\n')
    expect(lines[0]).toMatch(/^row\s+prediction\s+outputs/)
    expect(lines.length).toBe(rows.length + 5)
    expect(lines[n + 2]).toContain('refused')
  })

  test('after `ml2sc run`: predict uses that deployment (the chain it left) and still equals --offchain', async () => {
    const { cfg, header, rows } = setup('bc_sigmoid')
    const input = path.join(dir, 'bc-rows.csv')
    writeFileSync(input, [header, ...rows.slice(0, 20), withFirst(rows[20]!, '1e6')].join('\n') + '\n')
    const run = await runCliInProcess(['run', cfg, '--quiet'])
    expect(run.code).toBe(0)
    const dep = JSON.parse(readFileSync(path.join(dir, 'bc_sigmoid-out', 'deployment.json'), 'utf8'))
    const on = await runCliInProcess(['predict', cfg, '--input', input, '--json'])
    expect(on.code).toBe(0)
    expect(on.stderr).not.toContain('on the fly')
    const off = await runCliInProcess(['predict', cfg, '--input', input, '--json', '--offchain'])
    expect(on.stdout).toBe(off.stdout)
    const res = JSON.parse(on.stdout) as Rows
    expect(res.rows.length).toBe(21)
    expect('error' in res.rows[20]!).toBe(true)
    // the answers match the run's own predictions.csv
    const preds = readFileSync(path.join(dir, 'bc_sigmoid-out', 'predictions.csv'), 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(',')[2]))
    res.rows.slice(0, 20).forEach((r, i) => expect((r as { prediction: number }).prediction).toBe(preds[i]!))
    expect(dep.address).toMatch(/^0x[0-9a-fA-F]{40}$/)
  })

  test('regression (diabetes): the value is raw / 2^F, identical on and off chain', async () => {
    const { cfg, header, rows } = setup('diabetes_reg')
    const input = path.join(dir, 'diab-rows.csv')
    writeFileSync(input, [header, ...rows.slice(0, 15)].join('\n') + '\n')
    const [on, off] = [await runCliInProcess(['predict', cfg, '--input', input, '--json']), await runCliInProcess(['predict', cfg, '--input', input, '--json', '--offchain'])]
    expect(on.code).toBe(0)
    expect(on.stdout).toBe(off.stdout)
    for (const r of (JSON.parse(off.stdout) as Rows).rows) {
      const x = r as { prediction: number; raw: string[] }
      expect(x.prediction).toBe(Number(x.raw[0]) / 2 ** 20)
    }
  })

  test('errors are one line with a hint: missing input, wrong columns, an RPC chain with nothing deployed', async () => {
    const { cfg, header, rows } = setup('iris_softmax')
    const missing = await runCliInProcess(['predict', cfg, '--input', path.join(dir, 'nope.csv'), '--offchain'])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('input CSV not found')
    expect(missing.stderr.trim().split('\n').length).toBe(1)

    const bad = path.join(dir, 'iris-bad.csv')
    writeFileSync(bad, ['a,b,label', '1,2,0'].join('\n') + '\n')
    const cols = await runCliInProcess(['predict', cfg, '--input', bad, '--offchain'])
    expect(cols.code).toBe(1)
    expect(cols.stderr).toContain("the input's columns do not match the model's features: missing 'sepal_length_cm'")
    expect(cols.stderr).toContain("unknown 'a', 'b'")
    expect(cols.stderr.trim().split('\n').length).toBe(1)

    // an extra column: named, and no internal placeholder leaks into the message
    const extra = path.join(dir, 'iris-extra.csv')
    writeFileSync(extra, [`${header},extra`, `${rows[0]},7`].join('\n') + '\n')
    const ex = await runCliInProcess(['predict', cfg, '--input', extra, '--offchain'])
    expect(ex.code).toBe(1)
    expect(ex.stderr).toContain("unknown 'extra'")
    expect(ex.stderr).not.toContain('no label')
    expect(ex.stderr).not.toContain('\u0000')

    // a missing column
    const short = path.join(dir, 'iris-short.csv')
    writeFileSync(short, [header.split(',').slice(1).join(','), rows[0]!.split(',').slice(1).join(',')].join('\n') + '\n')
    const sh = await runCliInProcess(['predict', cfg, '--input', short, '--offchain'])
    expect(sh.code).toBe(1)
    expect(sh.stderr).toMatch(/missing '\w+'/)

    // no header: the first line is numbers, never read as column names
    const bare = path.join(dir, 'iris-bare.csv')
    writeFileSync(bare, rows.slice(0, 3).join('\n') + '\n')
    const nh = await runCliInProcess(['predict', cfg, '--input', bare, '--offchain'])
    expect(nh.code).toBe(1)
    expect(nh.stderr).toContain('no header row')
    expect(nh.stderr).toContain('sepal_length_cm')

    // --json: the error is JSON on stdout too
    const js = await runCliInProcess(['predict', cfg, '--input', bare, '--offchain', '--json'])
    expect(js.code).toBe(1)
    const err = JSON.parse(js.stdout) as { error: string; where: string; hint: string }
    expect(err.error).toContain('no header row')
    expect(err.where).toBe(`${bare}:1`)
    expect(err.hint).toContain('sepal_length_cm')

    const rpc = setup('iris_logits', 'chain:\n  rpcUrl: http://127.0.0.1:9\n')
    const input = path.join(dir, 'iris-rows.csv')
    writeFileSync(input, [header, ...rows.slice(0, 3)].join('\n') + '\n')
    const none = await runCliInProcess(['predict', rpc.cfg, '--input', input, '--json'])
    expect(none.code).toBe(1)
    expect(JSON.parse(none.stdout).error).toContain('no deployment.json')
    expect(none.stderr).toContain('no deployment.json')
    expect(none.stderr).toContain('--offchain')
    // --offchain needs no chain at all
    const off = await runCliInProcess(['predict', rpc.cfg, '--input', input, '--json', '--offchain'])
    expect(off.code).toBe(0)
    expect((JSON.parse(off.stdout) as Rows).rows.length).toBe(3)
  })

  test('data.classes: the table names the class; the JSON keeps the class index; a text label column in the input is ignored', async () => {
    const { cfg, header, rows } = setup('bc_sigmoid', '')
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('  label: label\n', '  label: label\n  classes: [malignant, benign]\n'))
    const input = path.join(dir, 'bc-named.csv')
    writeFileSync(input, [header, ...rows.slice(0, 5).map((l) => l.replace(/,([01])$/, (_, c) => (c === '1' ? ',benign' : ',malignant')))].join('\n') + '\n')
    const table = await runCliInProcess(['predict', cfg, '--input', input, '--offchain'])
    expect(table.code).toBe(0)
    expect(table.stdout.split('\n')[1]).toMatch(/^0\s+1 benign\s/)
    const json = await runCliInProcess(['predict', cfg, '--input', input, '--offchain', '--json'])
    expect((JSON.parse(json.stdout) as Rows).rows[0]).toMatchObject({ prediction: 1 })
  })
})
