// The config hash stamps the stage artifacts (deployment.json among them): it covers what determines the
// contract and its weights, not the file's text. A comment or reordered keys must not make a deployment
// stale (that forced a paid redeploy); a changed precision, owner or model file must.
import { describe, expect, test } from 'bun:test'
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { loadConfig } from '../../src/config/loadConfig.ts'
import { ROOT } from '../helpers/paths.ts'

const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-hash-'))
copyFileSync(path.join(ROOT, 'examples/breast-cancer/model.onnx'), path.join(dir, 'model.onnx'))
copyFileSync(path.join(ROOT, 'examples/breast-cancer/test.csv'), path.join(dir, 'test.csv'))

const BASE = 'model:\n  path: model.onnx\ndata:\n  test: test.csv\nprecision:\n  fraction: 20\n  inputs: int32\nchain:\n  hardfork: prague\n'
let n = 0
async function hashesOf(yaml: string) {
  const file = path.join(dir, `c${n++}.yaml`)
  writeFileSync(file, yaml)
  const c = await loadConfig(file, { output: path.join(dir, 'out') })
  return { hash: c.hash, evaluationHash: c.evaluationHash }
}

describe('config hash', () => {
  test('a comment, reordered keys, quoting and a default written out change neither hash', async () => {
    const base = await hashesOf(BASE)
    expect(base.hash).toMatch(/^[0-9a-f]{64}$/)
    const variants = [
      `# my model\n${BASE}# the end\n`,
      'chain:\n  hardfork: "prague"\nprecision:\n  inputs: int32\n  fraction: 20 # 2^20\ndata:\n  test: ./test.csv\nmodel:\n  path: model.onnx\n',
      `${BASE}weights:\n  layout: auto\nbatch:\n  upload: auto\n`,
    ]
    for (const v of variants) expect(await hashesOf(v)).toEqual(base)
  })

  test('what makes the contract changes the hash: precision, layout, upload chunk, hardfork, owner', async () => {
    const base = (await hashesOf(BASE)).hash
    const changed = [
      BASE.replace('fraction: 20', 'fraction: 16'),
      BASE.replace('inputs: int32', 'inputs: int64'),
      `${BASE}weights:\n  layout: storage\n`,
      `${BASE}batch:\n  upload: 4096\n`,
      BASE.replace('hardfork: prague', 'hardfork: cancun'),
      `${BASE}  owner: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'\n`,
      BASE.replace('path: model.onnx', 'path: model.onnx\n  task: regression'),
    ]
    const hashes = await Promise.all(changed.map(async (v) => (await hashesOf(v)).hash))
    for (const h of hashes) expect(h).not.toBe(base)
    expect(new Set(hashes).size).toBe(hashes.length)
  })

  test("the model file's content is in the hash", async () => {
    const before = await hashesOf(BASE)
    const model = path.join(dir, 'model.onnx')
    const bytes = await Bun.file(model).bytes()
    await Bun.write(model, new Uint8Array([...bytes, 0]))
    try {
      expect((await hashesOf(BASE)).hash).not.toBe(before.hash)
    } finally {
      await Bun.write(model, bytes)
    }
    expect(await hashesOf(BASE)).toEqual(before)
  })

  test('evaluation settings change only the evaluation hash; the RPC endpoint changes neither', async () => {
    const base = await hashesOf(BASE)
    for (const v of [
      `${BASE}batch:\n  rows: 10\n`,
      BASE.replace('test: test.csv', 'test: test.csv\n  limit: 5'),
      BASE.replace('test: test.csv', 'test: test.csv\n  drop: [mean_radius]'),
      `${BASE}  txGasCap: 30000000\n`,
    ]) {
      const h = await hashesOf(v)
      expect(h.hash).toBe(base.hash)
      expect(h.evaluationHash).not.toBe(base.evaluationHash)
    }
    expect(await hashesOf(`${BASE}  rpcUrl: http://127.0.0.1:8545\n  chainId: 31337\n`)).toEqual(base)
  })
})
