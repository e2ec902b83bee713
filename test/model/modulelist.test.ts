// Issue 19: nn.ModuleList and nn.ModuleDict iterated in forward(), as tutorials write them: the loops are
// unrolled over the containers' known lengths (src/model/source/moduleLists.ts); TorchScript's unrolled code
// (script: index conditions as constant `if` blocks; trace: getattr(layers, "0")) reads to the same graph.
// Fixture from real PyTorch in five formats: scripts/make-modulelist-fixtures.py. The float pass equals
// PyTorch's outputs in each; loops that cannot be unrolled get one line naming model.py's line; and the
// model runs on anvil from `init` unedited, chain = simulator, within tolerance of PyTorch.
import { describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { referenceForward } from '../../src/fixed/referenceForward.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import { FIXTURES } from '../helpers/paths.ts'
import { pytorchOutputs, worstErrors } from '../helpers/pytorchOutputs.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'
import { featureRows, fixtureProject } from '../helpers/fixtureProject.ts'

const DIR = path.join(FIXTURES, 'graph', 'modulelist_wine')
const SRC = readFileSync(path.join(DIR, 'model.py'), 'utf8')
const rows = featureRows(DIR, 13)
const NAMES = ['inp', 'blocks.0.fc', 'blocks.1.fc', 'layers.0', 'layers.1', 'layers.2', 'post.a', 'post.b', 'mix.first', 'heads.0', 'heads.1', 'heads.2']
const ACTS = ['relu', 'relu', 'relu', 'relu', 'relu', 'identity', 'tanh', 'tanh', 'identity', 'relu', 'relu', 'identity']
type Spec = Parameters<typeof loadModel>[0]

/** The refusal's message and hint for model.py edited by `edit` (the fixture's state_dict). */
async function refusal(edit: (s: string) => string): Promise<{ message: string; hint?: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-mlist-'))
  writeFileSync(path.join(dir, 'model.py'), edit(SRC))
  const e = (await loadModel({ path: path.join(DIR, 'model.state_dict.pt'), source: path.join(dir, 'model.py'), class: 'ListNet' } as Spec).catch((x: Error) => x)) as Error & { hint?: string; shortMessage?: string }
  expect(e).toBeInstanceOf(Error)
  return { message: e.shortMessage ?? e.message, hint: e.hint }
}

describe('nn.ModuleList / nn.ModuleDict loops', () => {
  for (const file of ['model.state_dict.pt', 'model.whole.pt', 'model.trace.pt', 'model.script.pt', 'model.onnx'])
    test(`${file}: the loops unrolled (12 Linear layers, 3 residual sums); float = PyTorch within 1e-5, fixed within 1e-4`, async () => {
      const source = file === 'model.state_dict.pt' || file === 'model.whole.pt' ? { source: path.join(DIR, 'model.py'), class: 'ListNet' } : {}
      const model = await loadModel({ path: path.join(DIR, file), ...source } as Spec)
      expect(model.layers.map((l) => l.name)).toEqual(NAMES)
      expect(model.layers.map((l) => l.activation.kind as string)).toEqual(ACTS)
      expect(model.layers.filter((l) => l.input?.op === 'add').length).toBe(3)
      const torch = pytorchOutputs(DIR)
      const worst = worstErrors(model, rows, torch)
      expect(rows.length).toBe(40)
      expect(worst.float).toBeLessThan(1e-5)
      expect(worst.fixed).toBeLessThan(1e-4)
    })

  test('other forms: range(len(...)) with self.layers[i], zip, .items(), a comprehension whose length only the state_dict gives', async () => {
    const edited = SRC.replace('for i, layer in enumerate(self.layers):\n            x = layer(x)', 'for i in range(len(self.layers)):\n            x = self.layers[i](x)')
      .replace('for m in self.post.values():', 'for _, m in self.post.items():')
      .replace('for blk in self.blocks:\n            x = x + blk(x)', 'for blk, again in zip(self.blocks, self.blocks):\n            x = x + blk(x)')
      .replace('def __init__(self, n_in=13, hidden=16, n_out=3, depth=2):', 'def __init__(self, depth, n_in=13, hidden=16, n_out=3):')
    expect(edited).toContain('range(len(self.layers))')
    expect(edited).toContain('self.post.items()')
    expect(edited).toContain('zip(self.blocks, self.blocks)')
    expect(edited).toContain('def __init__(self, depth,')
    const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-mlist-'))
    writeFileSync(path.join(dir, 'model.py'), edited)
    const model = await loadModel({ path: path.join(DIR, 'model.state_dict.pt'), source: path.join(dir, 'model.py'), class: 'ListNet' } as Spec)
    expect(model.layers.map((l) => l.name)).toEqual(NAMES)
    expect(model.layers.map((l) => l.activation.kind as string)).toEqual(ACTS)
    const torch = pytorchOutputs(DIR)
    expect(Math.max(...rows.flatMap((row, r) => referenceForward(model, row).map((v, j) => Math.abs(v - torch[r]![j]!))))).toBeLessThan(1e-5)
  })

  test('loops that cannot be unrolled get one line naming model.py\'s line and a hint', async () => {
    const hint = /ml2sc unrolls `for` loops over an nn.ModuleList/
    const w = await refusal((s) => s.replace('for blk in self.blocks:\n            x = x + blk(x)', 'while x.sum() > 0:\n            x = x - 1'))
    expect(w.message).toBe("unsupported construct 'while x.sum() > 0:' at model.py:31")
    expect(w.hint).toMatch(hint)
    const r = await refusal((s) => s.replace('for blk in self.blocks:', 'for blk in range(x.shape[1]):'))
    expect(r.message).toBe("unsupported construct 'for blk in range(x.shape[1]):' at model.py:31")
    expect(r.hint).toMatch(hint)
    const t = await refusal((s) => s.replace('for blk in self.blocks:\n            x = x + blk(x)', 'for row in x:\n            x = x + row'))
    expect(t.message).toBe("unsupported construct 'for row in x:' at model.py:31")
    // a condition on a tensor inside a loop: the condition's line
    const c = await refusal((s) => s.replace('if i < len(self.layers) - 1:', 'if x.sum() > 0:'))
    expect(c.message).toBe("unsupported construct 'if x.sum() > 0' at model.py:35")
    const b = await refusal((s) => s.replace('            if i < len(self.layers) - 1:\n                x = F.relu(x)', '            if i == 1:\n                break'))
    expect(b.message).toBe("unsupported construct 'break' at model.py:36")
    expect(b.hint).toMatch(hint)
    // a ModuleList called as a module
    const l = await refusal((s) => s.replace('return self.heads[-1](x)', 'return self.heads(x)'))
    expect(l.message).toBe("unsupported construct 'self.heads(x)' at model.py:42")
    expect(l.hint).toContain('an nn.ModuleList is not callable')
    // an index past the end
    const e = await refusal((s) => s.replace('self.heads[-1](x)', 'self.heads[3](x)'))
    expect(e.message).toBe("unsupported construct 'self.heads[3]' at model.py:42")
    expect(e.hint).toBe('heads has 3 element(s): 0, 1, 2')
  })

  test('model.state_dict.pt + model.py on anvil from `init` unedited: chain = simulator, within tolerance of PyTorch', async () => {
    const dir = fixtureProject(DIR, ['model.state_dict.pt', 'model.py', 'test.csv', 'reference.csv'], 'ml2sc-mlist-run-')
    const init = await runCliInProcess(['init', 'model.state_dict.pt', '--data', 'test.csv'], { cwd: dir })
    expect(init.code, init.stderr).toBe(0)
    expect(readFileSync(path.join(dir, 'ml2sc.yaml'), 'utf8')).toContain('source: model.py')
    const run = await runCliInProcess(['run', 'ml2sc.yaml', '--quiet'], { cwd: dir })
    expect(run.code, run.stderr).toBe(0)
    const report = JSON.parse(readFileSync(path.join(dir, 'out', 'report.json'), 'utf8'))
    expect(report.fidelity).toMatchObject({ enforced: true, against: 'pytorch-csv', within: true })
    expect(report.simulator.mismatches).toBe(0)
    expect(report.simulator.rows).toBe(40)
    expect(report.accuracy.agreement).toBeGreaterThanOrEqual(0.95)
    expect(report.model.architecture.filter((l: { reads?: { op: string } }) => l.reads?.op === 'add').length).toBe(3)
  }, 600_000)
})
