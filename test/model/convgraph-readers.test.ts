// Issue 19, graphs inside a conv stack as PyTorch writes them (scripts/make-conv-graph-fixtures.py, digits 8×8):
// a ResNet-style basic block as a custom module (identity skip) and an inline add whose skip is a 1×1 stride-2
// conv; two conv branches concatenated along the channels. Every format reads to the same tensor graph and gives
// PyTorch's outputs within 1e-5 in float (the simulator within the quantisation). What stays unsupported is
// refused in one line naming the layer.
import { describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { loadModel } from '../../src/model/loadModel.ts'
import type { ModelIR } from '../../src/ir/types.ts'
import { FIXTURES } from '../helpers/paths.ts'
import { featureRows } from '../helpers/fixtureProject.ts'
import { pytorchOutputs, worstErrors } from '../helpers/pytorchOutputs.ts'

const D = path.join(FIXTURES, 'convgraph')
const FORMATS = ['model.py', 'model.onnx', 'model.trace.pt', 'model.script.pt', 'model.whole.pt'] as const

const load = (name: string, format: (typeof FORMATS)[number]) => {
  const dir = path.join(D, name)
  if (format === 'model.py') return loadModel({ path: path.join(dir, 'model.state_dict.pt'), source: path.join(dir, 'model.py'), inputShape: [1, 8, 8] })
  if (format === 'model.whole.pt') return loadModel({ path: path.join(dir, format), source: path.join(dir, 'model.py'), inputShape: [1, 8, 8] })
  return loadModel({ path: path.join(dir, format), inputShape: [1, 8, 8] })
}

/** Each tensor layer as kind, what it reads (a join's values, a conv's `from`), output shape and activation. */
const graphOf = (ir: ModelIR) => ir.tensorLayers!.map((l) => [l.kind, 'values' in l ? l.values : 'from' in l && l.from !== undefined ? [l.from] : [], l.outShape.join('×'), l.activation.kind])

const EXPECTED: Record<string, (string | number[])[][]> = {
  // stem, block.conv1, block.conv2, block's relu(conv2(h) + x), conv3, down (reads value 4: the block's output), relu(conv3 + down), max pool
  residual_digits: [
    ['conv', [], '6×8×8', 'relu'],
    ['conv', [], '6×8×8', 'relu'],
    ['conv', [], '6×8×8', 'identity'],
    ['add', [3, 1], '6×8×8', 'relu'],
    ['conv', [], '8×4×4', 'identity'],
    ['conv', [4], '8×4×4', 'identity'],
    ['add', [5, 6], '8×4×4', 'relu'],
    ['maxpool', [], '8×2×2', 'identity'],
  ],
  // stem, a (1×1), b (3×3, reads the stem's output), cat, max pool
  concat_digits: [
    ['conv', [], '4×8×8', 'relu'],
    ['conv', [], '4×8×8', 'relu'],
    ['conv', [1], '4×8×8', 'relu'],
    ['concat', [2, 3], '8×8×8', 'identity'],
    ['maxpool', [], '8×4×4', 'identity'],
  ],
}

describe('residual and concat CNNs from every format', () => {
  for (const name of Object.keys(EXPECTED))
    test.each(FORMATS)(`${name} from %s: the tensor graph, and PyTorch's outputs within 1e-5`, async (format) => {
      const ir = await load(name, format)
      expect(graphOf(ir)).toEqual(EXPECTED[name]!)
      const dir = path.join(D, name)
      const { float, fixed, widths } = worstErrors(ir, featureRows(dir, 64), pytorchOutputs(dir))
      expect(widths.every((w) => w === 10)).toBe(true)
      expect(float).toBeLessThan(1e-5)
      expect(fixed).toBeLessThan(1e-3)
    })
})

describe('what stays unsupported: one line naming the layer', () => {
  const dir = path.join(D, 'residual_digits')
  const source = readFileSync(path.join(dir, 'model.py'), 'utf8')
  const refusal = async (edit: (s: string) => string, from = path.join(dir, 'model.state_dict.pt')) => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'ml2sc-convgraph-'))
    writeFileSync(path.join(tmp, 'model.py'), edit(source))
    try {
      await loadModel({ path: from, source: path.join(tmp, 'model.py'), inputShape: [1, 8, 8] })
    } catch (e) {
      return (e as Error).message
    }
    throw new Error('not refused')
  }

  test('a residual add of tensors of two shapes (broadcasting) names the add and both shapes', async () => {
    const m = await refusal((s) => s.replace('F.relu(self.conv3(x) + self.down(x))', 'F.relu(self.conv3(x) + self.down(x)) + x'))
    expect(m).toContain("residual add 'add3' (")
    expect(m).toContain('a residual add of a 8×4×4 and a 6×8×8 tensor (broadcasting is not supported)')
    expect(m.split('\n')[0]).not.toContain('    at ')
  })

  test('torch.cat along a spatial axis is refused where it is written', async () => {
    const cat = path.join(D, 'concat_digits')
    const src = readFileSync(path.join(cat, 'model.py'), 'utf8')
    const run = async (dim: string) => {
      const tmp = mkdtempSync(path.join(tmpdir(), 'ml2sc-convgraph-'))
      writeFileSync(path.join(tmp, 'model.py'), src.replace('dim=1)', `dim=${dim})`))
      return await loadModel({ path: path.join(cat, 'model.state_dict.pt'), source: path.join(tmp, 'model.py'), inputShape: [1, 8, 8] }).then(
        () => 'not refused',
        (e: Error) => e.message,
      )
    }
    expect(await run('2')).toContain("unsupported construct 'torch.cat([F.relu(self.a(x)), F.relu(self.b(x))], dim=2)' at model.py:")
    const last = await run('-1')
    expect(last).toContain("torch.cat 'cat1'")
    expect(last).toContain('torch.cat along dim=-1 of 4×8×8 and 4×8×8 tensors joins them along their last spatial axis')
  })

  test('an activation on a value two branches share is refused, naming that value', async () => {
    const m = await refusal((s) => s.replace('x = F.relu(self.conv3(x) + self.down(x))', 'x = self.conv3(x) + F.relu(x)'))
    expect(m).toContain("activation relu on a value another branch reads too ('add1') is not supported")
  })
})
