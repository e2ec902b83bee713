// Issue 18: `ml2sc init` never ignores a source beside the weights. A model.py it cannot read (a residual
// MLP, an ELU MLP: held-out models trained by real PyTorch, test/fixtures/trust) is named with its line and
// construct, and nothing is guessed; guessing happens only when no source exists, and is then marked.
import { describe, expect, test } from 'bun:test'
import { copyFileSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Ml2scError } from '../../src/errors/base.ts'
import { referenceForward } from '../../src/fixed/referenceForward.ts'
import { readAllRows } from '../../src/data/readCsv.ts'
import { readReference } from '../../src/data/readReference.ts'
import { initConfig, type InitResult } from '../../src/scaffold/initConfig.ts'
import { FIXTURES } from '../helpers/paths.ts'
import { runCliInProcess as runCli } from '../helpers/cliInProcess.ts'

const TRUST = path.join(FIXTURES, 'trust')
function copy(from: string, files: string[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-init-refuses-'))
  for (const f of files) copyFileSync(path.join(from, f), path.join(dir, f))
  return dir
}

async function tryInit(dir: string): Promise<{ result?: InitResult; error?: Ml2scError }> {
  try {
    return { result: await initConfig({ model: 'model.state_dict.pt' }, dir) }
  } catch (e) {
    if (!(e instanceof Ml2scError)) throw e
    return { error: e }
  }
}

/** The largest |float forward pass − PyTorch| over the fixture's test rows, and PyTorch's output range. */
async function distanceFromPyTorch(fixture: string, r: InitResult): Promise<{ maxAbs: number; range: number }> {
  const { features } = await readAllRows(path.join(TRUST, fixture, 'test.csv'), { label: 'label' })
  const torch = await readReference(path.join(TRUST, fixture, 'reference.csv'), 3)
  let maxAbs = 0
  features.forEach((f, i) => referenceForward(r.architecture.ir, f).forEach((y, j) => (maxAbs = Math.max(maxAbs, Math.abs(y - torch[i]![j]!)))))
  const all = torch.flat()
  return { maxAbs, range: Math.max(...all) - Math.min(...all) }
}

describe('a source beside the weights that ml2sc cannot read', () => {
  test('residual MLP (h = h + relu(fc2(relu(fc1(h))))): init now reads the skip connection (issue 19 D) and matches PyTorch within 1% of its range', async () => {
    const dir = copy(path.join(TRUST, 'residual'), ['model.state_dict.pt', 'model.py', 'test.csv', 'reference.csv'])
    const { result, error } = await tryInit(dir)
    expect(error?.shortMessage).toBeUndefined()
    expect(result!.architecture.how).toBe('source')
    // the head reads the sum of fc_in's output (value 1) and fc2's (value 3); fc1 reads fc_in's output
    expect(result!.architecture.ir.layers.map((l) => [l.name, l.input ?? null])).toEqual([
      ['fc_in', null],
      ['fc1', null],
      ['fc2', null],
      ['out', { op: 'add', values: [1, 3] }],
    ])
    const d = await distanceFromPyTorch('residual', result!)
    // today's plain-chain guess was 8.6 away from PyTorch on a range of 55; the graph is float32-close
    expect(d.maxAbs).toBeLessThan(1e-4 * d.range)
    expect(existsSync(path.join(dir, 'ml2sc.yaml'))).toBe(true)
  })

  test('ELU MLP with its model.py: never read as ReLU (init refuses naming F.elu, or reads the ELU)', async () => {
    const dir = copy(path.join(TRUST, 'elu'), ['model.state_dict.pt', 'model.py', 'test.csv', 'reference.csv'])
    const { result, error } = await tryInit(dir)
    if (result) {
      expect(result.architecture.how).toBe('source')
      expect(result.architecture.ir.layers.map((l) => l.activation.kind)).not.toContain('relu')
      const d = await distanceFromPyTorch('elu', result)
      expect(d.maxAbs).toBeLessThan(0.01 * d.range)
      return
    }
    expect(error!.shortMessage).toMatch(/unsupported construct 'F\.elu\(self\.fc\d\(x\)\)' at model\.py:1[34]/)
    expect(existsSync(path.join(dir, 'ml2sc.yaml'))).toBe(false)
  })

  test('CLI: exit 1, one line on stderr naming the file, line and construct, with the model.layers hint', async () => {
    const dir = copy(path.join(FIXTURES, 'iris_logits'), ['model.state_dict.pt', 'test.csv'])
    // a construct no reader of ml2sc follows: an einsum in forward()
    writeFileSync(
      path.join(dir, 'model.py'),
      'import torch\nimport torch.nn as nn\n\n\nclass IrisNet(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc1 = nn.Linear(4, 16)\n        self.fc2 = nn.Linear(16, 3)\n\n    def forward(self, x):\n        x = torch.einsum("bi->bi", self.fc1(x))\n        return self.fc2(x)\n',
    )
    const r = await runCli(['init', 'model.state_dict.pt'], { cwd: dir })
    expect(r.code).toBe(1)
    const lines = r.stderr.trim().split('\n')
    expect(lines.length).toBe(1)
    expect(lines[0]).toMatch(/^ml2sc: error: .*model\.py: model\.py lies beside model\.state_dict\.pt but ml2sc cannot read it \(.*at model\.py:12\); init does not guess/)
    expect(lines[0]).toContain('einsum')
    expect(lines[0]).toContain('hint: write the config yourself with model.path and model.layers')
    expect(existsSync(path.join(dir, 'ml2sc.yaml'))).toBe(false)
  })

  test('a model.py with no nn.Module class is not skipped either', async () => {
    const dir = copy(path.join(FIXTURES, 'iris_logits'), ['model.state_dict.pt'])
    writeFileSync(path.join(dir, 'model.py'), 'import torch.nn as nn\nmodel = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))\n')
    const { error } = await tryInit(dir)
    expect(error?.shortMessage).toContain('model.py defines no class X(nn.Module)')
  })

  test('no source at all: the guess is written with model.guessed: true (the reports say GUESSED)', async () => {
    const dir = copy(path.join(TRUST, 'elu'), ['model.state_dict.pt', 'test.csv'])
    const { result } = await tryInit(dir)
    expect(result!.architecture.how).toBe('layers')
    expect(result!.text).toMatch(/\n  guessed: true\s+# GUESSED: no nn.Module source beside the model/)
    expect(result!.warnings.join('\n')).toContain('is GUESSED from the tensor shapes')
  })
})
