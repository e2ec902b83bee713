import { afterAll, describe, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { loadConfig } from '../../src/config/loadConfig.ts'
import { ConfigError } from '../../src/errors/base.ts'

const root = mkdtempSync(join(tmpdir(), 'ml2sc-config-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

let n = 0
/** A fresh folder with model.onnx, test.csv, net.py and the given ml2sc.yaml; returns the yaml path. */
function project(yaml: string): string {
  const dir = join(root, `p${n++}`)
  mkdirSync(join(dir, 'models'), { recursive: true })
  writeFileSync(join(dir, 'models', 'model.onnx'), '')
  writeFileSync(join(dir, 'net.py'), '')
  writeFileSync(join(dir, 'test.csv'), 'a,label\n1,0\n')
  writeFileSync(join(dir, 'ml2sc.yaml'), yaml)
  return join(dir, 'ml2sc.yaml')
}

async function configError(file: string): Promise<ConfigError> {
  try {
    await loadConfig(file)
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError)
    return e as ConfigError
  }
  throw new Error('expected a ConfigError')
}

const minimal = 'model:\n  path: models/model.onnx\ndata:\n  test: test.csv\n'

describe('loadConfig', () => {
  test('an unquoted chain.owner address stays the address (YAML would read 0x… as a number)', async () => {
    const config = await loadConfig(project(minimal + 'chain:\n  owner: 0x70997970C51812dc3A010C7d01b50e0d17dc79C8\n'))
    expect(config.chain.owner).toBe('0x70997970C51812dc3A010C7d01b50e0d17dc79C8')
    // other hexadecimal numbers are still numbers: only a 20-byte address keeps its text
    expect((await loadConfig(project(minimal + 'batch:\n  rows: 0x10\n'))).batch.rows).toBe(16)
  })

  test('fills every default from the schema', async () => {
    const file = project(minimal)
    const config = await loadConfig(file)
    const dir = resolve(file, '..')
    expect(config).toEqual({
      file,
      dir,
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      evaluationHash: expect.stringMatching(/^[0-9a-f]{64}$/),
      model: { path: join(dir, 'models/model.onnx') },
      data: { test: join(dir, 'test.csv'), label: 'label', drop: [] },
      weights: { layout: 'auto' },
      precision: { fraction: 'auto', weights: 'auto', inputs: 'auto', tolerance: '1%' },
      batch: { rows: 'auto', upload: 'auto' },
      chain: { hardfork: 'prague', txGasCap: 16777216, blockGasLimit: 30000000 },
      output: join(dir, 'out'),
    })
  })

  test('resolves paths relative to the config file, and --out relative to the cwd', async () => {
    const file = project(
      'model:\n  path: ./models/model.onnx\n  source: net.py\n  class: Net\ndata:\n  test: test.csv\noutput: ../results\n',
    )
    const dir = resolve(file, '..')
    const config = await loadConfig(file)
    expect(config.model.path).toBe(join(dir, 'models', 'model.onnx'))
    expect(config.model.source).toBe(join(dir, 'net.py'))
    expect(config.data.test).toBe(join(dir, 'test.csv'))
    expect(config.output).toBe(resolve(dir, '../results'))
    expect((await loadConfig(file, { output: 'elsewhere' })).output).toBe(resolve(process.cwd(), 'elsewhere'))
  })

  test('a folder means its ml2sc.yaml', async () => {
    const file = project(minimal)
    expect((await loadConfig(resolve(file, '..'))).file).toBe(file)
  })

  test('keeps the given values', async () => {
    const file = project(
      minimal +
        'weights: { layout: storage }\nprecision: { decimals: 18, weights: int256, inputs: int64 }\n' +
        'batch: { rows: 50, upload: 4096 }\nchain: { rpcUrl: "https://rpc.example.org", chainId: 8453 }\n',
    )
    const config = await loadConfig(file)
    expect(config.precision).toEqual({ decimals: 18, weights: 'int256', inputs: 'int64', tolerance: '1%' })
    expect(config.weights.layout).toBe('storage')
    expect(config.batch).toEqual({ rows: 50, upload: 4096 })
    expect(config.chain).toEqual({
      rpcUrl: 'https://rpc.example.org',
      chainId: 8453,
      hardfork: 'prague',
      txGasCap: 16777216,
      blockGasLimit: 30000000,
    })
  })

  test('without a data section, data.test is empty and label/drop take their defaults', async () => {
    const config = await loadConfig(project('model:\n  path: models/model.onnx\n  layers: [linear, sigmoid]\n'))
    expect(config.data).toEqual({ test: '', label: 'label', drop: [] })
    expect(config.model.layers).toEqual(['linear', 'sigmoid'])
  })

  test('an unknown key suggests the intended one', async () => {
    const err = await configError(project('model:\n  pth: models/model.onnx\n'))
    expect(err.shortMessage).toBe("2 problems: model.path: required; model.pth: unknown key (did you mean 'path'?)")
    expect(err.where).toEndWith('ml2sc.yaml')
    expect(err.details).toContain("line 2: model.pth: unknown key (did you mean 'path'?)")
  })

  test('a misplaced key points to its section', async () => {
    const err = await configError(project(`${minimal}label: diagnosis\n`))
    expect(err.shortMessage).toBe("label: unknown key (did you mean 'data.label'?)")
  })

  test('reports every problem at once, in one line', async () => {
    const err = await configError(
      project(
        'model:\n  path: model.txt\n  task: binry\ndata:\n  tset: test.csv\nprecision:\n  weights: int12\n  fraction: 70\n' +
          'batch:\n  rows: 0\n  upload: lots\nchain:\n  rpcUrl: localhost:8545\n',
      ),
    )
    const problems = [
      'model.path: must be a .onnx, .pt, .pth, .json or .safetensors file',
      "model.task: must be one of binary, multiclass, regression (got 'binry')",
      'data.test: required',
      "data.tset: unknown key (did you mean 'test'?)",
      "precision.weights: must be one of auto, int4, int8, int16, int24, int32, int48, int64, int128, int256 or a list or a mapping (got 'int12')",
      'precision.fraction: must be an integer from 4 to 64 or "auto" (got 70)',
      'batch.rows: must be an integer ≥ 1 or "auto" (got 0)',
      'batch.upload: must be an integer ≥ 32 or "auto"',
      'chain.rpcUrl: must be an http:// or https:// URL',
    ]
    expect(err.shortMessage).toStartWith(`${problems.length} problems: `)
    for (const p of problems) expect(err.shortMessage).toContain(p)
    expect(err.shortMessage.split('; ')).toHaveLength(problems.length)
    expect(err.message.split('\n')[0]).toContain(problems[0])
  })

  test('a YAML syntax error names the line and column', async () => {
    const err = await configError(project('model:\n  path: models/model.onnx\n  layers: [linear, relu\ndata: {}\n'))
    expect(err.shortMessage).toStartWith('YAML syntax error: ')
    expect(err.where).toMatch(/ml2sc\.yaml:\d+:\d+$/)
    const dup = await configError(project('model:\n  path: a.onnx\n  path: b.onnx\n'))
    expect(dup.where).toMatch(/ml2sc\.yaml:3:3$/)
    expect(dup.shortMessage).toContain('unique')
  })

  test('refuses a private key', async () => {
    const err = await configError(project(`${minimal}chain:\n  privateKey: "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"\n`))
    expect(err.shortMessage).toBe(
      'chain.privateKey: private keys must not be written in the config (configs get committed); set ML2SC_PRIVATE_KEY in the environment instead',
    )
    expect(err.message).not.toContain('0xac0974')
  })

  test('fraction and decimals are mutually exclusive; so are rpcUrl and fork', async () => {
    const err = await configError(
      project(`${minimal}precision: { fraction: 16, decimals: 18 }\nchain: { rpcUrl: "http://a:8545", fork: "http://b:8545" }\n`),
    )
    expect(err.shortMessage).toBe(
      '2 problems: precision: set either fraction or decimals, not both; chain: set either rpcUrl or fork, not both',
    )
  })

  test('the config file is missing', async () => {
    const err = await configError(join(root, 'nowhere', 'ml2sc.yaml'))
    expect(err.shortMessage).toBe('config file not found')
    expect(err.hint).toBe('create one with `ml2sc init`')
    expect(err.where).toBe(join(root, 'nowhere', 'ml2sc.yaml'))
  })

  test('an empty or non-mapping config', async () => {
    expect((await configError(project(''))).shortMessage).toBe('the config is empty')
    expect((await configError(project('- a\n- b\n'))).shortMessage).toContain('must be a mapping')
  })

  test('files the config names must exist', async () => {
    const file = project('model:\n  path: models/missing.onnx\n  source: nope.py\ndata:\n  test: models\n')
    const dir = resolve(file, '..')
    const err = await configError(file)
    expect(err.shortMessage).toBe(
      `3 problems: model.path: ${join(dir, 'models/missing.onnx')} does not exist; ` +
        `model.source: ${join(dir, 'nope.py')} does not exist; data.test: ${join(dir, 'models')} is a folder, not a file`,
    )
    expect(err.hint).toStartWith('paths are relative to the config file')
  })
})
