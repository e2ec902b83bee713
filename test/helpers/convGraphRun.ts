// The shared run of the graph-CNN e2e tests (convgraph-*-run.test.ts): a fixture copied as a newcomer's project,
// `ml2sc init <model> --data test.csv`, `ml2sc run ml2sc.yaml` unedited, and the checks every such run must pass.
import { expect } from 'bun:test'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { runCliInProcess } from './cliInProcess.ts'
import { fixtureProject } from './fixtureProject.ts'
import { pytorchOutputs } from './pytorchOutputs.ts'

const argmax = (v: number[]) => v.indexOf(Math.max(...v))

export async function convGraphRun(fixture: string, files: string[], model: string) {
  const dir = fixtureProject(fixture, [...files, 'test.csv', 'reference.csv'], 'ml2sc-convgraph-')
  const init = await runCliInProcess(['init', model, '--data', 'test.csv'], { cwd: dir })
  expect(init.stderr).not.toContain('ml2sc: error')
  expect(init.code).toBe(0)
  const run = await runCliInProcess(['run', 'ml2sc.yaml'], { cwd: dir })
  expect(run.stderr).not.toContain('ml2sc: error')
  expect(run.code).toBe(0)
  const report = JSON.parse(readFileSync(path.join(dir, 'out', 'report.json'), 'utf8'))
  const torch = pytorchOutputs(fixture)
  // the chain equals the simulator on every row; every output within the tolerance of PyTorch's
  expect(report.simulator).toEqual({ mismatches: 0, rows: torch.length })
  expect(report.fidelity.against).toBe('pytorch-csv')
  expect(report.fidelity.within).toBe(true)
  expect(report.error.maxAbs).toBeLessThan(report.fidelity.worst.tolerance)
  // every class on chain is PyTorch's (predictions.csv: row,label,onchain,reference)
  const rows = readFileSync(path.join(dir, 'out', 'predictions.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','))
  for (const [row, , onchain] of rows) expect(Number(onchain)).toBe(argmax(torch[Number(row)]!))
  expect(report.gas.inference.perRow).toBeGreaterThan(0)
  return { report, rows, torch, dir }
}
