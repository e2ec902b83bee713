// `ml2sc inspect`: the IR of every fixture format as a table and as JSON; weights-only files get a guessed
// architecture; a config adds the fixed-point plan.
import { describe, expect, test } from 'bun:test'
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { inspectTarget, renderInspect } from '../../src/commands/inspect.ts'
import { FIXTURES, ROOT } from '../helpers/paths.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'

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
    // inputs: auto holds every test feature with 2× headroom in 24 bits at 2^20; then fraction: auto takes 2^16,
    // where fc1's lanes are 32 bits (8 a word) and the calibration rows keep the gate (the inputs follow to 2^16)
    expect(s.plan).toMatchObject({ contract: 'Ml2sc_IrisNet', fraction: 16, weightBits: 8, inputBits: 24, inputScale: '2^16' })
    expect(s.plan!.layers.map((l) => l.lanes)).toEqual([8, 3])
    expect(renderInspect(s)).toMatch(/fixed point  activations at 2\^16, weights int8/)
  })

  test('CLI: a table on stdout, or --json', async () => {
    const t = await runCliInProcess(['inspect', 'test/fixtures/bc_sigmoid/model.onnx'])
    expect(t.code).toBe(0)
    expect(t.stdout).toMatch(/^model\s+test\/fixtures\/bc_sigmoid\/model\.onnx\n/)
    expect(t.stdout).toMatch(/\n\s+1\s+fc1\s+30\s+8\s+relu\s+248\n/)
    const j = await runCliInProcess(['inspect', 'test/fixtures/bc_sigmoid/model.onnx', '--json'])
    expect(JSON.parse(j.stdout)).toMatchObject({ format: 'onnx', task: 'binary', shape: [30, 8, 1], parameters: 257 })
    const bad = await runCliInProcess(['inspect', 'test/fixtures/special/malicious.pt'])
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toMatch(/^ml2sc: error: /)
  })
})

describe('inspect a convolutional model: each layer\'s output shape and multiply-accumulates', () => {
  test('the MNIST-shaped CNN (ONNX records its input shape): 5,994 parameters, 322,560 MACs', async () => {
    const s = await inspectTarget(path.join(FIXTURES, 'cnn_mnist28/model.onnx'))
    expect(s.inputShape).toEqual([1, 28, 28])
    expect(s.layers.map((l) => [l.kind, l.outShape, l.macs])).toEqual([
      ['conv2d', [8, 24, 24], 8 * 24 * 24 * 25],
      ['maxpool', [8, 12, 12], 0],
      ['conv2d', [16, 8, 8], 16 * 8 * 8 * 8 * 25],
      ['avgpool', [16, 4, 4], 0],
      ['linear', [10], 2560],
    ])
    expect([s.parameters, s.macs]).toEqual([5994, 322560])
    const table = renderInspect(s)
    expect(table).toContain('input        1×28×28 tensor, CSV columns in C order; 322,560 multiply-accumulates per row')
    expect(table).toMatch(/\n\s+3\s+conv2\s+conv2d\s+16×8×8\s+relu\s+3,216\s+204,800\n/)
    expect(table).toMatch(/total\s+5,994\s+322,560\n$/)
  })

  test('a TorchScript file without its input shape: guessed from the layer sizes, or given by --input-shape', async () => {
    const s = await inspectTarget(path.join(FIXTURES, 'cnn_signal1d/model.trace.pt'))
    expect([s.inputShape, s.guess?.inputShape]).toEqual([[1, 64], [1, 64]])
    expect(renderInspect(s)).toContain('1×64 tensor (GUESSED from the layer sizes; set model.inputShape)')
    // global average pooling: every size fits, so nothing is guessed
    const trace = path.join(FIXTURES, 'cnn_depthwise/model.trace.pt')
    await expect(inspectTarget(trace)).rejects.toThrow(/input shape is not known/)
    const d = await inspectTarget(trace, { inputShape: [1, 8, 8] })
    expect(d.layers.map((l) => l.kind)).toEqual(['conv2d', 'conv2d depthwise', 'conv2d', 'maxpool', 'global avgpool', 'linear'])
    const cli = await runCliInProcess(['inspect', trace, '--input-shape', '1,8,8', '--json'])
    expect(JSON.parse(cli.stdout)).toMatchObject({ inputShape: [1, 8, 8], macs: 4608 + 4608 + 8192 + 160 })
  })
})

test('a convolutional state_dict alone: one line asking for the source and the input shape', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-inspect-'))
  copyFileSync(path.join(FIXTURES, 'cnn_mnist28/model.safetensors'), path.join(dir, 'model.safetensors'))
  await expect(inspectTarget(path.join(dir, 'model.safetensors'))).rejects.toThrow(/holds convolution weights \('conv1\.weight' is 8×1×5×5\)/)
})
