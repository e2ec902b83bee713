// Issue 19 (norms) end to end: the PyTorch fixtures with LayerNorm (two post-norm residual blocks) and with
// BatchNorm after an activation, GroupNorm and a BatchNorm on a torch.cat (scripts/make-norm-fixtures.py).
// `ml2sc init <model> --data test.csv` writes a config that runs unedited; `ml2sc run` deploys on a real
// anvil: the chain equals the simulator on every row and PyTorch within the tolerance. Gas is printed.
import { describe, expect, test } from 'bun:test'
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { FIXTURES } from '../helpers/paths.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'

const GRAPH = path.join(FIXTURES, 'graph')

describe('norm models: init then run on a real anvil', () => {
  for (const [name, file, rows] of [
    ['ln_residual_wine', 'model.onnx', 40],
    ['norm_digits', 'model.state_dict.pt', 100],
  ] as const)
    test(`${name} (${file}): runs unedited; chain = simulator; within the tolerance of PyTorch`, async () => {
      const dir = mkdtempSync(path.join(tmpdir(), `ml2sc-norm-${name}-`))
      const files = file === 'model.onnx' ? [file, 'test.csv', 'reference.csv'] : [file, 'model.py', 'test.csv', 'reference.csv']
      for (const f of files) copyFileSync(path.join(GRAPH, name, f), path.join(dir, f))
      const init = await runCliInProcess(['init', file, '--data', 'test.csv'], { cwd: dir })
      expect(init.stderr).not.toContain('ml2sc: error')
      expect(init.code).toBe(0)
      const run = await runCliInProcess(['run', 'ml2sc.yaml'], { cwd: dir })
      expect(run.stderr).not.toContain('ml2sc: error')
      expect(run.code).toBe(0)
      expect(run.stdout + run.stderr).toContain('simulator mismatches 0')
      const report = JSON.parse(readFileSync(path.join(dir, 'out', 'report.json'), 'utf8'))
      expect(report.fidelity).toMatchObject({ enforced: true, against: 'pytorch-csv', within: true, rows })
      expect(report.accuracy.agreement).toBe(1)
      // the plan carries the norms: a layer_norm on a join (LN model) or in a layer's seq (GroupNorm model)
      const plan = readFileSync(path.join(dir, 'out', 'plan.json'), 'utf8')
      expect(plan).toContain('"layer_norm"')
      if (name === 'norm_digits') expect(plan).toContain('"affine"')
      console.log(`${name} (${file}): one predict ${report.gas.predictSingle} gas, per row ${report.gas.inference.perRow}, max error ${report.error.maxAbs}, weights int${8 * JSON.parse(plan).plan.weightBytes}`)
    }, 300_000)
})
