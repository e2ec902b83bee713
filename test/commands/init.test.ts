// `ml2sc init`: the label column and the architecture are guessed, the config it writes loads and builds
// the same model as the fixture's own architecture, and an existing config is never overwritten silently.
import { describe, expect, test } from 'bun:test'
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { parse } from 'yaml'
import { loadConfig } from '../../src/config/loadConfig.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import { guessData } from '../../src/scaffold/guessData.ts'
import { initConfig } from '../../src/scaffold/initConfig.ts'
import { ANCHORS, FIXTURES } from '../helpers/paths.ts'
import { runCliInProcess as runCli } from '../helpers/cliInProcess.ts'
import { runCommand } from '../../src/commands/run.ts'
import { expectMl2scError, quiet } from './helpers.ts'
import { pytorchOutputs } from '../helpers/pytorchOutputs.ts'

const tmp = () => mkdtempSync(path.join(tmpdir(), 'ml2sc-init-'))
/** Copy a fixture's files into a fresh folder (without its model.py unless asked). */
function copy(fixture: string, files: string[]): string {
  const dir = tmp()
  for (const f of files) copyFileSync(path.join(FIXTURES, fixture, f), path.join(dir, f))
  return dir
}
const meta = (fixture: string) => JSON.parse(readFileSync(path.join(FIXTURES, fixture, 'meta.json'), 'utf8'))

describe('label column guess', () => {
  const cases: [string, string, 'name' | 'last'][] = [
    ['a,b,label\n1,2,0\n', 'label', 'name'],
    ['target,a,b\n1,2,3\n', 'target', 'name'],
    ['a,y,b\n1,0.5,3\n', 'y', 'name'],
    ['Class,a\n2,1\n', 'Class', 'name'],
    ['id,diagnosis,a\n7,1,0.3\n', 'diagnosis', 'name'],
    ['a,b,outcome\n1,2,1\n', 'outcome', 'last'],
  ]
  for (const [csv, label, how] of cases)
    test(`${csv.split('\n')[0]} → ${label}`, async () => {
      const f = path.join(tmp(), 'd.csv')
      writeFileSync(f, csv)
      const g = await guessData(f)
      expect(g.label).toBe(label)
      expect(g.labelHow).toBe(how)
    })

  test('ids and text columns are dropped; the task follows the label values', async () => {
    const f = path.join(tmp(), 'd.csv')
    writeFileSync(f, 'id,name,x1,x2,label\n1,"Smith, J",0.1,0.2,0\n2,Doe,0.3,0.4,1\n')
    expect(await guessData(f)).toMatchObject({ label: 'label', drop: ['id', 'name'], features: 2, task: 'binary' })
    writeFileSync(f, 'x,target\n1,0.25\n2,3.5\n')
    expect((await guessData(f)).task).toBe('regression')
    writeFileSync(f, 'x,target\n1,0\n2,2\n3,1\n')
    expect((await guessData(f)).task).toBe('multiclass')
  })

  test("ML2SC's processed_data.csv: label diagnosis, drop id, 30 features", async () => {
    expect(await guessData(path.join(ANCHORS, 'processed_data.csv'))).toMatchObject({ label: 'diagnosis', drop: ['id'], features: 30, task: 'binary' })
  })
})

describe('architecture guess and the config written', () => {
  // weights-only files with no source beside them: the layers come from the tensor shapes
  const weightsOnly: [string, string, string[]][] = [
    ['bc_sigmoid', 'model.safetensors', ['linear', 'relu', 'linear', 'sigmoid']], // one output, 0/1 labels → sigmoid
    ['diabetes_reg', 'weights.json', ['linear', 'relu', 'linear']], // one output, real-valued labels → regression
    ['iris_logits', 'model.state_dict.pt', ['linear', 'relu', 'linear']], // three outputs → logits
    ['digits_bn', 'model.state_dict.pt', ['linear', 'batchnorm', 'relu', 'linear']], // BatchNorm where it sits
  ]
  for (const [fixture, file, layers] of weightsOnly)
    test(`${fixture}/${file}: model.layers [${layers.join(', ')}], and the config builds PyTorch's model`, async () => {
      const dir = copy(fixture, [file, 'test.csv'])
      const r = await initConfig({ model: path.join(dir, file) }, dir)
      expect(r.file).toBe(path.join(dir, 'ml2sc.yaml'))
      expect(r.architecture.how).toBe('layers')
      const doc = parse(readFileSync(r.file, 'utf8'))
      expect(doc.model).toEqual({ path: file, layers, guessed: true }) // and marked GUESSED for the reports
      expect(doc.data).toEqual({ test: 'test.csv', label: 'label' }) // test.csv beside the model is found
      const config = await loadConfig(r.file)
      const ours = await loadModel(config.model)
      const theirs = await loadModel({ path: path.join(FIXTURES, fixture, file), layers: meta(fixture).layers })
      expect(ours.layers.map((l) => [l.weight.length, l.activation.kind])).toEqual(theirs.layers.map((l) => [l.weight.length, l.activation.kind]))
    })

  test('an nn.Module source beside the weights is preferred (its activations are right, not guessed)', async () => {
    const dir = copy('wine_tanh_leaky', ['weights.json', 'model.py', 'test.csv'])
    const r = await initConfig({ model: path.join(dir, 'weights.json') }, dir)
    expect(r.architecture).toMatchObject({ how: 'source', class: 'WineNet' })
    const doc = parse(readFileSync(r.file, 'utf8'))
    expect(doc.model).toEqual({ path: 'weights.json', source: 'model.py', class: 'WineNet' })
    const ir = await loadModel((await loadConfig(r.file)).model)
    expect(ir.layers.map((l) => l.activation.kind)).toEqual(['tanh', 'leaky_relu', 'identity'])
  })

  test('a file with its own architecture (ONNX, TorchScript) needs no layers', async () => {
    for (const file of ['model.onnx', 'model.script.pt']) {
      const dir = copy('iris_softmax', [file])
      const r = await initConfig({ model: path.join(dir, file), data: path.join(FIXTURES, 'iris_softmax/test.csv') }, dir)
      const doc = parse(readFileSync(r.file, 'utf8'))
      expect(doc.model).toEqual({ path: file })
      // the path written resolves from the config's folder to the data file, wherever the clone sits
      expect(path.resolve(dir, doc.data.test)).toBe(path.join(FIXTURES, 'iris_softmax/test.csv'))
      // more than one level up reads better absolute than as a long ../ chain
      if (path.relative(dir, path.join(FIXTURES, 'iris_softmax/test.csv')).startsWith('../..')) expect(path.isAbsolute(doc.data.test)).toBe(true)
      expect(r.architecture.how).toBe('file')
    }
  })

  test('refuses to overwrite without force; --config and --out are honoured', async () => {
    const dir = copy('bc_sigmoid', ['model.onnx', 'test.csv'])
    await initConfig({ model: 'model.onnx' }, dir)
    const before = readFileSync(path.join(dir, 'ml2sc.yaml'), 'utf8')
    await expectMl2scError(initConfig({ model: 'model.onnx' }, dir), /ml2sc\.yaml already exists \(hint: pass --force/)
    expect(readFileSync(path.join(dir, 'ml2sc.yaml'), 'utf8')).toBe(before)
    await initConfig({ model: 'model.onnx', force: true, out: 'build' }, dir)
    expect(parse(readFileSync(path.join(dir, 'ml2sc.yaml'), 'utf8')).output).toBe('build')
    await initConfig({ model: 'model.onnx', config: 'exp/two.yaml', out: 'exp/out' }, dir)
    const two = parse(readFileSync(path.join(dir, 'exp/two.yaml'), 'utf8'))
    expect(two.model.path).toBe('../model.onnx')
    expect(two.output).toBe('out')
    expect((await loadConfig(path.join(dir, 'exp/two.yaml'))).output).toBe(path.join(dir, 'exp/out'))
  })

  test('a CSV whose columns do not fit the model: written, with a warning', async () => {
    const dir = copy('bc_sigmoid', ['model.onnx'])
    writeFileSync(path.join(dir, 'few.csv'), 'a,b,label\n1,2,0\n')
    const r = await initConfig({ model: 'model.onnx', data: 'few.csv' }, dir)
    expect(r.warnings[0]).toMatch(/2 feature columns .* the model takes 30 inputs/)
    expect(readFileSync(r.file, 'utf8')).toContain('# WARNING:')
  })

  test('CLI: --json summarises the guesses; a second init is refused', async () => {
    const dir = copy('bc_sigmoid', ['model.safetensors', 'test.csv'])
    const r = await runCli(['init', 'model.safetensors', '--json'], { cwd: dir })
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(out.architecture).toMatchObject({ how: 'layers', layers: ['linear', 'relu', 'linear', 'sigmoid'], shape: [30, 8, 1] })
    expect(out.data).toMatchObject({ label: 'label', task: 'binary', features: 30 })
    expect(existsSync(path.join(dir, 'ml2sc.yaml'))).toBe(true)
    const again = await runCli(['init', 'model.safetensors'], { cwd: dir })
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/^ml2sc: error: ml2sc\.yaml already exists/)
  })

  test('the newcomer path: a weights-only .pt and a CSV → init → run → PyTorch’s classes on chain', async () => {
    const dir = copy('iris_logits', ['model.state_dict.pt', 'test.csv', 'reference.csv'])
    const r = await initConfig({ model: 'model.state_dict.pt' }, dir)
    const report = await runCommand({ config: r.file }, quiet)
    expect(report.accuracy.agreement).toBe(1)
    expect(report.simulator.mismatches).toBe(0)
    const torch = pytorchOutputs(dir)
    report.predictions.forEach((p, i) => expect(p.onchain).toBe(torch[i]!.indexOf(Math.max(...torch[i]!))))
  })
})

describe('init never guesses silently', () => {
  test('weights only: the activations are marked CHECK and said on stderr; PyTorch outputs beside the model become data.reference', async () => {
    const dir = copy('bc_sigmoid', ['model.safetensors', 'test.csv', 'reference.csv'])
    const r = await runCli(['init', 'model.safetensors'], { cwd: dir })
    expect(r.code).toBe(0)
    expect(r.stderr).toContain('activations are not in the file')
    const text = readFileSync(path.join(dir, 'ml2sc.yaml'), 'utf8')
    expect(text).toMatch(/layers: \[linear, relu, linear, sigmoid\]\s+# CHECK: activations not in the file/)
    expect(parse(text).data.reference).toBe('reference.csv')
    const c = await loadConfig(path.join(dir, 'ml2sc.yaml'))
    expect(c.data.reference).toBe(path.join(dir, 'reference.csv'))
    // an ONNX file carries its activations: nothing to check, nothing said
    const onnx = copy('bc_sigmoid', ['model.onnx', 'test.csv'])
    const o = await initConfig({ model: 'model.onnx' }, onnx)
    expect(o.text).not.toContain('# CHECK:')
    expect(o.warnings).toEqual([])
    expect(o.reference).toBeUndefined()
  })

  test('a reference with another row count is not used, and init says why', async () => {
    const dir = copy('bc_sigmoid', ['model.onnx', 'test.csv'])
    const lines = readFileSync(path.join(FIXTURES, 'bc_sigmoid', 'reference.csv'), 'utf8').trim().split('\n')
    writeFileSync(path.join(dir, 'model.outputs.csv'), lines.slice(0, 11).join('\n') + '\n')
    const r = await initConfig({ model: 'model.onnx' }, dir)
    expect(r.reference).toBeUndefined()
    expect(r.warnings.join('\n')).toContain('not used as data.reference: model.outputs.csv has 10 rows, the test CSV 50')
  })

  test('PyTorch outputs named reference_outputs.csv or <anything>_outputs.csv are found too', async () => {
    for (const name of ['reference_outputs.csv', 'bc_outputs.csv', 'model-outputs.csv']) {
      const dir = copy('bc_sigmoid', ['model.onnx', 'test.csv'])
      copyFileSync(path.join(FIXTURES, 'bc_sigmoid', 'reference.csv'), path.join(dir, name))
      const r = await initConfig({ model: 'model.onnx' }, dir)
      expect([name, r.reference && path.basename(r.reference)]).toEqual([name, name])
      expect(parse(r.text).data.reference).toBe(name)
    }
  })

  test('the label column is found anywhere by its values, and checked against the outputs', async () => {
    const dir = copy('iris_softmax', ['model.onnx'])
    const [header, ...rows] = readFileSync(path.join(FIXTURES, 'iris_softmax', 'test.csv'), 'utf8').trim().split('\n')
    const first = (l: string) => { const c = l.split(','); return [c[c.length - 1], ...c.slice(0, -1)].join(',') }
    writeFileSync(path.join(dir, 'test.csv'), [first(header!.replace(/label$/, 'kind')), ...rows.map(first)].join('\n') + '\n')
    const r = await initConfig({ model: 'model.onnx' }, dir)
    expect(r.data).toMatchObject({ label: 'kind', labelHow: 'values', features: 4, task: 'multiclass' })
    expect(r.warnings).toEqual([])
    expect(r.text).toContain("# GUESSED: its values are the model's classes")

    // a label by name whose values are not the model's 3 classes
    writeFileSync(path.join(dir, 'test.csv'), [header, ...rows.map((l, i) => l.replace(/,\d+$/, `,${i % 7}`))].join('\n') + '\n')
    const bad = await initConfig({ model: 'model.onnx', force: true }, dir)
    expect(bad.warnings.join('\n')).toMatch(/label 'label' holds 0, 1, 2, 3, 4, 5, …, but the model's 3 outputs are classes 0…2/)
  })

  test('CLI: a missing model beside an existing config is "model not found"; `run model.onnx` points to init; no command, one hint', async () => {
    const dir = copy('bc_sigmoid', ['model.onnx'])
    writeFileSync(path.join(dir, 'ml2sc.yaml'), 'model:\n  path: model.onnx\n')
    const missing = await runCli(['init', 'nosuch.pt'], { cwd: dir })
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/^ml2sc: error: model file not found: nosuch\.pt/)
    const run = await runCli(['run', 'model.onnx'], { cwd: dir })
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('this is a model file, not a config')
    expect(run.stderr).toContain('`ml2sc init model.onnx`')
    const none = await runCli([], { cwd: dir })
    expect(none.code).toBe(1)
    expect(none.stderr.trim().split('\n')).toHaveLength(1)
    expect(none.stderr.match(/--help/g)).toHaveLength(1)
  })
})

test('text labels: init writes data.classes (sorted, marked CHECK); a wrong order shows as accuracy below chance with the likely cause', async () => {
  const dir = copy('bc_sigmoid', ['model.onnx', 'reference.csv'])
  const [header, ...rows] = readFileSync(path.join(FIXTURES, 'bc_sigmoid', 'test.csv'), 'utf8').trim().split('\n')
  // scikit-learn's breast-cancer target: 0 = malignant, 1 = benign; sorted, the names come the other way round
  writeFileSync(path.join(dir, 'test.csv'), [header, ...rows.map((l) => l.replace(/,([01])$/, (_, c) => (c === '1' ? ',benign' : ',malignant')))].join('\n') + '\n')
  const r = await initConfig({ model: 'model.onnx' }, dir)
  expect(r.text).toMatch(/classes: \[benign, malignant\]\s+# CHECK: class names in the order of the model's outputs/)
  expect(r.warnings.join('\n')).toContain("label 'label' holds text")
  const report = await runCommand({ config: r.file }, quiet)
  expect(report.accuracy.agreement).toBe(1) // the chain still agrees with PyTorch
  expect(report.accuracy.onchain).toBe(0.05) // but the names are the wrong way round (over rows 10–49: 0–9 are calibration rows)
  expect(report.warnings.join('\n')).toMatch(/at or below chance.*another order than the outputs \(data\.classes\)/)
})

describe('a convolutional model without its input shape', () => {
  // [fixture, file, expected shape]: the CSV's column count names the size (global pooling fits any size)
  const cases: [string, string, number[]][] = [
    ['cnn_signal1d', 'model.trace.pt', [1, 64]],
    ['cnn_depthwise', 'model.trace.pt', [1, 8, 8]],
    ['cnn_mnist28', 'model.whole.pt', [1, 28, 28]],
  ]
  for (const [fixture, file, shape] of cases)
    test(`${fixture}/${file}: model.inputShape ${JSON.stringify(shape)} is written, marked GUESSED, and the config loads`, async () => {
      const dir = copy(fixture, [file, 'test.csv'])
      const r = await initConfig({ model: path.join(dir, file) }, dir)
      const text = readFileSync(r.file, 'utf8')
      expect(text).toContain(`  inputShape: [${shape.join(', ')}]`)
      expect(text).toMatch(/inputShape: .*# GUESSED from the layer sizes/)
      const config = await loadConfig(r.file)
      expect(config.model.inputShape).toEqual(shape)
      expect((await loadModel(config.model)).inputShape).toEqual(shape)
    })
})
