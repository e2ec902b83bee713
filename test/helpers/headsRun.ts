// A next/up two-head sequence fixture (test/fixtures/graph/heads_*_sine: a regression head `next` and a 2-class
// head `up`) run as a newcomer runs it: `ml2sc init <model> --data test.csv`, then `ml2sc run ml2sc.yaml`
// unedited, in-process (the run's own embedded anvil). The checks every such file makes, per head, are here.
import { expect } from 'bun:test'
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { runCliInProcess } from './cliInProcess.ts'
import { fixtureProject } from './fixtureProject.ts'
import { FIXTURES } from './paths.ts'
import { pytorchOutputs } from './pytorchOutputs.ts'

type Head = { name: string; task: string; offset: number; size: number; label: string; within: boolean; agreement: number; maxAbsError: number }
export type HeadsRun = { dir: string; report: { heads: Head[]; gas: { predictSingle: number; deploy: number; inference: { perRow: number } }; error: { maxAbs: number }; simulator: { mismatches: number }; fidelity: { tolerances: number[] }; model: { format: string } } }

const lines = (f: string) => readFileSync(f, 'utf8').trim().split('\n')

/**
 * init then run (unedited) the fixture `name`'s `files` in a fresh folder, and check what holds for any model
 * with heads next (1) and up (2): init's label per head, 0 simulator mismatches, each head in report.json within
 * the tolerance of PyTorch, predictions.csv's columns per head against PyTorch's own outputs, the heads in the
 * contract's NatSpec and the client library, and predict --json per head, on chain equal to off chain.
 */
export async function initAndRunHeads(name: string, files: string[], model: string): Promise<HeadsRun> {
  const src = path.join(FIXTURES, 'graph', name)
  const dir = fixtureProject(src, [...files, 'test.csv', 'reference.csv'], `ml2sc-${name}-`)
  const init = await runCliInProcess(['init', model, '--data', 'test.csv'], { cwd: dir })
  expect(init.stderr).not.toContain('ml2sc: error')
  expect(init.code).toBe(0)
  const yaml = readFileSync(path.join(dir, 'ml2sc.yaml'), 'utf8')
  expect(yaml).toContain('label: [next, up]')
  expect(yaml).not.toContain('WARNING')
  const run = await runCliInProcess(['run', 'ml2sc.yaml'], { cwd: dir })
  expect(run.stderr).not.toContain('ml2sc: error')
  expect(run.code).toBe(0)
  expect(run.stdout + run.stderr).toContain('simulator mismatches 0')
  const report = JSON.parse(readFileSync(path.join(dir, 'out', 'report.json'), 'utf8')) as HeadsRun['report']
  expect(report.simulator.mismatches).toBe(0)
  const tol = report.fidelity.tolerances
  const [next, up] = report.heads
  expect(next).toMatchObject({ name: 'next', task: 'regression', offset: 0, size: 1, label: 'next', within: true, agreement: 1 })
  expect(up).toMatchObject({ name: 'up', task: 'multiclass', offset: 1, size: 2, label: 'up', within: true, agreement: 1 })
  expect(next!.maxAbsError).toBeLessThan(tol[0]!)
  expect(up!.maxAbsError).toBeLessThan(Math.min(tol[1]!, tol[2]!))
  // predictions.csv: each head's label, on-chain and reference columns; against PyTorch's own outputs (reference.csv)
  const torch = pytorchOutputs(src)
  const csv = lines(path.join(dir, 'out', 'predictions.csv'))
  expect(csv[0]).toBe('row,label,onchain,reference,next_label,next_onchain,next_reference,up_label,up_onchain,up_reference')
  for (const l of csv.slice(1)) {
    const c = l.split(',')
    const t = torch[Number(c[0])]!
    expect(Math.abs(Number(c[5]) - t[0]!)).toBeLessThan(tol[0]!)
    expect(Number(c[8])).toBe(t[2]! > t[1]! ? 1 : 0)
  }
  // the contract interface: the NatSpec names the outputs, the client library has a function per head
  const out = readdirSync(path.join(dir, 'out'))
  const sol = readFileSync(path.join(dir, 'out', out.find((f) => f.endsWith('.sol') && !f.endsWith('Client.sol'))!), 'utf8')
  expect(sol).toContain('The outputs, one after another: next (1), up (2).')
  const client = readFileSync(path.join(dir, 'out', out.find((f) => f.endsWith('Client.sol'))!), 'utf8')
  for (const s of ['HEAD_NEXT_OFFSET = 0;', 'HEAD_UP_OFFSET = 1;', 'HEAD_UP_SIZE = 2;', 'function predictNext(', 'function predictUpClass(']) expect(client).toContain(s)
  // predict --json: a prediction per head, through eth_call and off chain alike
  writeFileSync(path.join(dir, 'rows.csv'), lines(path.join(dir, 'test.csv')).slice(0, 4).join('\n') + '\n')
  const on = await runCliInProcess(['predict', 'ml2sc.yaml', '--input', 'rows.csv', '--json'], { cwd: dir })
  const off = await runCliInProcess(['predict', 'ml2sc.yaml', '--input', 'rows.csv', '--json', '--offchain'], { cwd: dir })
  expect(on.code).toBe(0)
  expect(JSON.parse(on.stdout)).toEqual(JSON.parse(off.stdout))
  const rows = JSON.parse(on.stdout).rows as { raw: string[]; heads: Record<string, { prediction: number; raw: string[] }> }[]
  expect(rows).toHaveLength(3)
  for (const [i, r] of rows.entries()) {
    expect(Object.keys(r.heads)).toEqual(['next', 'up'])
    expect(r.heads.up!.raw).toEqual(r.raw.slice(1, 3))
    expect(Math.abs(r.heads.next!.prediction - torch[i]![0]!)).toBeLessThan(tol[0]!)
    expect(r.heads.up!.prediction).toBe(torch[i]![2]! > torch[i]![1]! ? 1 : 0)
  }
  return { dir, report }
}
