// `ml2sc inspect`: the IR of every fixture format as a table and as JSON; weights-only files get a guessed
// architecture; a config adds the fixed-point plan.
import { describe, expect, test } from 'bun:test'
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { inspectTarget, renderInspect } from '../../src/commands/inspect.ts'
import { FIXTURES, ROOT, runCli } from '../helpers/paths.ts'

const meta = (fixture: string) => JSON.parse(readFileSync(path.join(FIXTURES, fixture, 'meta.json'), 'utf8'))

describe('inspect a model file', () => {
  // [fixture, file, format, activations]
  const cases: [string, string, string, string[]][] = [
    ['bc_sigmoid', 'model.onnx', 'onnx', ['relu', 'sigmoid']],
    ['iris_softmax', 'model.whole.pt', 'whole-model-pt', ['relu', 'softmax']],
    ['wine_tanh_leaky', 'model.script.pt', 'torchscript', ['tanh', 'leaky_relu(0.1)', 'identity']],
    ['wine_tanh_leaky', 'model.trace.pt', 'torchscript', ['tanh', 'leaky_relu(0.1)', 'identity']],
    ['digits_bn', 'model.onnx', 'onnx', ['relu', 'identity']], // BatchNorm folded, Dropout gone
    ['diabetes_reg', 'model.whole.pt', 'whole-model-pt', ['relu', 'identity']],
  ]
  for (const [fixture, file, format, acts] of cases)
    test(`${fixture}/${file}`, async () => {
      const s = await inspectTarget(path.join(FIXTURES, fixture, file))
      const m = meta(fixture)
      expect(s.format).toBe(format)
      expect(s.architecture).toBe('file')
      expect(s.task).toBe(m.task)
      expect(s.inputSize).toBe(m.inputSize)
      expect(s.outputSize).toBe(m.outputs)
      expect(s.layers.map((l) => l.activation)).toEqual(acts)
      expect(s.parameters).toBe(s.layers.reduce((a, l) => a + l.out * (l.in + 1), 0))
      expect(s.shape).toEqual([m.inputSize, ...s.layers.map((l) => l.out)])
      const table = renderInspect(s)
      expect(table).toContain(`format       ${format}`)
      for (const l of s.layers) expect(table).toMatch(new RegExp(`\\n\\s+${l.index}\\s+${l.name.replace('.', '\\.')}\\s+${l.in}\\s+${l.out}\\s+${l.activation.replace(/[()]/g, '\\$&')}\\s+${l.parameters.toLocaleString('en-US')}\\n`))
      expect(table).toMatch(new RegExp(`total\\s+${s.parameters.toLocaleString('en-US')}\\n$`))
    })

  test('a weights-only file: the architecture is guessed from the tensors (or a source beside it)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-inspect-'))
    copyFileSync(path.join(FIXTURES, 'digits_bn/model.safetensors'), path.join(dir, 'model.safetensors'))
    const s = await inspectTarget(path.join(dir, 'model.safetensors'))
    expect(s.architecture).toBe('guessed: layers')
    expect(s.guess?.layers).toEqual(['linear', 'batchnorm', 'relu', 'linear'])
    expect(s.shape).toEqual([64, 32, 10])
    expect(renderInspect(s)).toContain('guessed from the tensor shapes: [linear, batchnorm, relu, linear]')
    const withSource = await inspectTarget(path.join(FIXTURES, 'iris_softmax/weights.json'))
    expect(withSource.architecture).toBe('guessed: source')
    expect(withSource.guess?.class).toBe('IrisSoftmax')
    expect(withSource.layers.map((l) => l.activation)).toEqual(['relu', 'softmax'])
  })

  test('a config: its model and the fixed-point plan', async () => {
    const s = await inspectTarget(path.join(ROOT, 'examples/iris/ml2sc.yaml'))
    expect(s.architecture).toBe('model.source')
    // weights: auto calibrates on the test rows: iris's logits (relu, identity) keep PyTorch's class on every row with int8
    expect(s.plan).toMatchObject({ contract: 'Ml2sc_IrisNet', fraction: 20, weightBits: 8, inputBits: 32 })
    expect(s.plan!.layers.length).toBe(2)
    expect(renderInspect(s)).toMatch(/fixed point  activations at 2\^20, weights int8/)
  })

  test('CLI: a table on stdout, or --json', async () => {
    const t = await runCli(['inspect', 'test/fixtures/bc_sigmoid/model.onnx'])
    expect(t.code).toBe(0)
    expect(t.stdout).toMatch(/^model\s+test\/fixtures\/bc_sigmoid\/model\.onnx\n/)
    expect(t.stdout).toMatch(/\n\s+1\s+fc1\s+30\s+8\s+relu\s+248\n/)
    const j = await runCli(['inspect', 'test/fixtures/bc_sigmoid/model.onnx', '--json'])
    expect(JSON.parse(j.stdout)).toMatchObject({ format: 'onnx', task: 'binary', shape: [30, 8, 1], parameters: 257 })
    const bad = await runCli(['inspect', 'test/fixtures/special/malicious.pt'])
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toMatch(/^ml2sc: error: /)
  })
})
