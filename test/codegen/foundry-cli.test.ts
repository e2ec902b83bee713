// `ml2sc generate --foundry DIR`: the project's test vectors are the simulator's answers to the config's test rows.
import { expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { loadConfig } from '../../src/config/loadConfig.ts'
import { readAllRows } from '../../src/data/readCsv.ts'
import { encodeRow } from '../../src/fixed/encodeRows.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import { prepareModel } from '../../src/pipeline/prepareModel.ts'
import { ROOT, runCli } from '../helpers/paths.ts'

test('generate --foundry writes a project whose vectors are the simulator on the test CSV', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-forge-'))
  const r = await runCli(['generate', 'examples/iris/ml2sc.yaml', '--out', path.join(dir, 'out'), '--foundry', path.join(dir, 'forge')])
  expect(r.code).toBe(0)
  expect(readdirSync(path.join(dir, 'forge'))).toEqual(expect.arrayContaining(['foundry.toml', 'src', 'test']))
  const t = readFileSync(path.join(dir, 'forge/test', readdirSync(path.join(dir, 'forge/test'))[0]!), 'utf8')
  const prep = await prepareModel(await loadConfig(path.join(ROOT, 'examples/iris/ml2sc.yaml')))
  const rows = (await readAllRows(path.join(ROOT, 'examples/iris/test.csv'), { label: 'label', limit: 20 })).features
  for (const f of rows.slice(0, 3)) {
    const out = simulate(prep.plan, (encodeRow(prep.plan, f) as { values: bigint[] }).values)
    for (const v of out) expect(t).toContain(v.toString())
  }
})

test('generate --foundry refuses the immutable code layout with one line', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-forge-'))
  const yaml = path.join(dir, 'ml2sc.yaml')
  await Bun.write(yaml, `model:\n  path: ${ROOT}/examples/iris/weights.json\n  source: ${ROOT}/examples/iris/model.py\nweights:\n  layout: code\n`)
  const r = await runCli(['generate', yaml, '--foundry', path.join(dir, 'forge')])
  expect(r.code).not.toBe(0)
  expect(r.stderr).toMatch(/ml2sc: error: weights\.layout: .*immutable/)
})
