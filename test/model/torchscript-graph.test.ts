// Issue 19: graph models saved as TorchScript only (trace and script, no model.py): the residual sum
// (torch.add), the concatenation (torch.cat(…, 1)) and a tuple return are read from the archive's own code
// (src/model/pt/forwardInterpreter.ts), never run. Fixtures from real PyTorch:
// scripts/make-torchscript-graph-fixtures.py. The float pass equals PyTorch's outputs; the fixed-point twin
// goes through the same graph; and one model runs on anvil from `init` unedited, chain = simulator.
import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { loadModel } from '../../src/model/loadModel.ts'
import { FIXTURES } from '../helpers/paths.ts'
import { pytorchOutputs, worstErrors } from '../helpers/pytorchOutputs.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'
import { featureRows, fixtureProject } from '../helpers/fixtureProject.ts'

const GRAPH = path.join(FIXTURES, 'graph')
const rowsOf = (dir: string) => featureRows(dir, 13)

describe('TorchScript graph models (no source)', () => {
  for (const name of ['ts_graph', 'ts_heads'])
    for (const file of ['trace.pt', 'script.pt'])
      test(`${name}/${file}: the residual sum, the concat${name === 'ts_heads' ? ' and two heads' : ''} read from the code; float = PyTorch, fixed within 1e-4`, async () => {
        const dir = path.join(GRAPH, name)
        const model = await loadModel({ path: path.join(dir, file) } as Parameters<typeof loadModel>[0])
        expect(model.format).toBe('torchscript')
        // fc3 reads fc1 + fc2 (values 1 and 2); `out` (and `value`) read cat(fc3, fc4)
        expect(model.layers.find((l) => l.name === 'fc3')!.input).toMatchObject({ op: 'add', values: [1, 2] })
        expect(model.layers.find((l) => l.name === 'out')!.input).toMatchObject({ op: 'concat', values: [3, 4] })
        if (name === 'ts_heads') expect(model.heads).toEqual([{ name: 'out0', size: 3 }, { name: 'out1', size: 1 }])
        else expect(model.heads).toBeUndefined()
        const rows = rowsOf(dir)
        const torch = pytorchOutputs(dir)
        expect(rows.length).toBe(30)
        const worst = worstErrors(model, rows, torch)
        expect(worst.widths).toEqual(torch.map((t) => t.length))
        expect(worst.float).toBeLessThan(1e-5)
        expect(worst.fixed).toBeLessThan(1e-4)
      })

  test('ts_graph/trace.pt on anvil from `init` unedited: chain = simulator, within tolerance of PyTorch, every class kept', async () => {
    const dir = fixtureProject(path.join(GRAPH, 'ts_graph'), ['trace.pt', 'test.csv', 'reference.csv'], 'ml2sc-tsgraph-')
    const init = await runCliInProcess(['init', 'trace.pt', '--data', 'test.csv'], { cwd: dir })
    expect(init.code, init.stderr).toBe(0)
    const run = await runCliInProcess(['run', 'ml2sc.yaml', '--quiet'], { cwd: dir })
    expect(run.code, run.stderr).toBe(0)
    const report = JSON.parse(readFileSync(path.join(dir, 'out', 'report.json'), 'utf8'))
    expect(report.fidelity).toMatchObject({ enforced: true, within: true })
    expect(report.simulator.mismatches).toBe(0)
    expect(report.simulator.rows).toBeGreaterThan(20)
    expect(report.accuracy.agreement).toBe(1)
    expect(report.model.architecture.some((l: { reads?: { op: string } }) => l.reads?.op === 'add')).toBe(true)
    expect(report.model.architecture.some((l: { reads?: { op: string } }) => l.reads?.op === 'concat')).toBe(true)
  }, 600_000)
})
