// Issue 19 (layers part) as a newcomer runs it: `ml2sc init <model> --data test.csv` beside the files real
// PyTorch wrote (scripts/make-layer-fixtures.py), then `ml2sc run ml2sc.yaml` with no edit: an embedding
// model and an adaptive-pool CNN from model.py + state_dict, the ceil_mode CNN from ONNX. Each deploys on
// the embedded anvil, the chain equals the simulator, PyTorch is within the tolerance; a row whose
// category is out of range gets one line naming its row, feature and embedding.
import { describe, expect, test } from 'bun:test'
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { FIXTURES } from '../helpers/paths.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'

const LAYERS = path.join(FIXTURES, 'layers')
const readJson = (f: string) => JSON.parse(readFileSync(f, 'utf8'))

describe('layer fixtures: init --data test.csv, then run unedited on a real anvil', () => {
  for (const [name, file, reads] of [
    ['embed_wine', 'model.state_dict.pt', 'categorical'],
    ['adaptive_digits', 'model.state_dict.pt', 'adaptive'],
    ['pools_digits', 'model.onnx', 'ceil'],
  ] as const)
    test(`${name} (${file})`, async () => {
      const dir = mkdtempSync(path.join(tmpdir(), `ml2sc-layers-${name}-`))
      const files = file === 'model.onnx' ? [file, 'test.csv', 'reference.csv'] : [file, 'model.py', 'test.csv', 'reference.csv']
      for (const f of files) copyFileSync(path.join(LAYERS, name, f), path.join(dir, f))
      const init = await runCliInProcess(['init', file, '--data', 'test.csv'], { cwd: dir })
      expect(init.stderr).not.toContain('ml2sc: error')
      expect(init.code).toBe(0)
      const yaml = readFileSync(path.join(dir, 'ml2sc.yaml'), 'utf8')
      if (file !== 'model.onnx') expect(yaml).toContain('source: model.py')

      const run = await runCliInProcess(['run', 'ml2sc.yaml'], { cwd: dir })
      expect(run.stderr).not.toContain('ml2sc: error')
      expect(run.code).toBe(0)
      expect(run.stdout + run.stderr).toContain('simulator mismatches 0')
      const report = readJson(path.join(dir, 'out', 'report.json'))
      expect(report.fidelity).toMatchObject({ enforced: true, against: 'pytorch-csv', within: true })
      const plan = readJson(path.join(dir, 'out', 'plan.json')).plan
      if (reads === 'categorical') {
        expect(plan.categorical.map((c: { column: number; count: number }) => [c.column, c.count])).toEqual([[0, 6], [1, 4]])
        // the contract declares BadCategory; a row out of range is refused in one line (off chain, before any call)
        expect(readFileSync(path.join(dir, 'out', 'Ml2sc_TabularNet.sol'), 'utf8')).toContain('error BadCategory(uint256 row, uint256 feature, int256 value)')
        const lines = readFileSync(path.join(dir, 'test.csv'), 'utf8').trim().split('\n')
        writeFileSync(path.join(dir, 'bad.csv'), [lines[0], lines[1], lines[2]!.replace(/^[^,]*,[^,]*,/, '2,4,')].join('\n') + '\n')
        const p = await runCliInProcess(['predict', 'ml2sc.yaml', '--input', 'bad.csv', '--json'], { cwd: dir })
        expect(p.code).toBe(0)
        const rows = JSON.parse(p.stdout).rows
        expect(rows[0].prediction).toBeDefined()
        expect(rows[1]).toEqual({ error: "row 1: feature 1 ('color_bin') = 4 is not a category index of embedding 'emb_b' (a whole number from 0 to 3)" })
        // a test set with such a row: run stops before the chain, in one line naming the file, row and feature
        writeFileSync(path.join(dir, 'test.csv'), [lines[0], lines[1], lines[2]!.replace(/^[^,]*,/, '9,'), ...lines.slice(3)].join('\n') + '\n')
        const bad = await runCliInProcess(['run', 'ml2sc.yaml', '--out', 'out2'], { cwd: dir })
        expect(bad.code).not.toBe(0)
        const errs = bad.stderr.split('\n').filter((l) => l.includes('ml2sc: error'))
        expect(errs).toEqual(["ml2sc: error: test.csv: row 1, feature 0: 9 is not a category index of embedding 'emb_a' (a whole number from 0 to 5) (hint: a categorical column holds whole indices from 0 to num_embeddings − 1)"])
        expect(bad.stderr).not.toContain('    at ')
      } else {
        const spans = plan.tensorLayers.filter((l: { spans?: unknown }) => l.spans).length
        expect(spans).toBe(2)
      }
    })
})
