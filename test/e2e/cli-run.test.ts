// `bin/ml2sc run` as a user runs it: real anvil, real solc, a real PyTorch-trained model; the on-chain
// answers must be PyTorch's own (its outputs are committed beside the model). The second model's run is
// src/cli.ts in the test's process (helpers/cliInProcess.ts): the launcher is the first one's.
import { describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ROOT, runCli } from '../helpers/paths.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'

const readCsv = (f: string) => readFileSync(f, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','))

describe('ml2sc run', () => {
  test('breast-cancer (ONNX, binary sigmoid): every on-chain class equals PyTorch', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'ml2sc-e2e-'))
    const r = await runCli(['run', 'examples/breast-cancer/ml2sc.yaml', '--out', out])
    expect(r.stderr).not.toContain('ml2sc: error')
    expect(r.code).toBe(0)
    for (const f of ['report.json', 'report.md', 'predictions.csv', 'deployment.json', 'Ml2sc_model.sol']) expect(existsSync(path.join(out, f))).toBe(true)
    const torch = readCsv(path.join(ROOT, 'examples/breast-cancer/reference.csv')).map((r) => Number(r[1]))
    const preds = readCsv(path.join(out, 'predictions.csv'))
    expect(preds.length).toBe(torch.length)
    preds.forEach((p, i) => expect(Number(p[2])).toBe(torch[i]! > 0.5 ? 1 : 0))
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'))
    expect(report.reference.source).toBe('pytorch-csv') // agreement is with PyTorch's own outputs (data.reference)
    expect(report.accuracy.agreement).toBe(1)
    expect(report.error.maxAbs).toBeLessThanOrEqual(1e-4)
    expect(report.simulator.mismatches).toBe(0)
    expect(report.model.parameters).toBe(30 * 8 + 8 + 8 + 1)
    expect(report.gas.deploy).toBeGreaterThan(21_000)
    // 257 parameters fit in the contract's own code: deploying is uploading
    expect(report.gas.upload).toBe(0)
    // a small dense model: a forwarding model (its weights as constants of its code), and the reports say so
    expect(report.forwarding).toBe(true)
    expect(readFileSync(path.join(out, 'report.md'), 'utf8')).toContain('(a forwarding model: the weights in the code; an update installs a kernel contract)')
    expect(report.gas.uploadTransactions).toBe(0)
    expect(report.gas.inference.rows).toBe(torch.length)
    expect(report.gas.inference.perRow).toBeGreaterThan(0)
    expect(report.gas.predictSingle).toBeGreaterThan(21_000)
    // predict from another contract: measured on chain; no 21,000 base or calldata, but a cold account access
    expect(report.gas.predictInternal).toBeGreaterThan(2_600)
    expect(report.gas.predictInternal).toBeLessThan(report.gas.predictSingle - 21_000 + 2_600)
    expect(report.gas.predictInternalClient).toBeGreaterThan(report.gas.predictInternal)
    expect(report.gas.clientPerFeature).toBeLessThanOrEqual(150)
    expect(readFileSync(path.join(out, 'report.md'), 'utf8')).toContain('| predict from another contract |')
    expect(existsSync(path.join(out, 'Ml2sc_modelClient.sol'))).toBe(true)
    expect(report.error.maxAbs).toBeLessThan(1e-4)
    const dep = JSON.parse(readFileSync(path.join(out, 'deployment.json'), 'utf8'))
    expect(dep.chainId).toBe(31337)
    expect(dep.address).toMatch(/^0x[0-9a-fA-F]{40}$/)
    expect(dep.commitment).toMatch(/^0x[0-9a-f]{64}$/)
    expect(dep.forwarding).toBe(true) // as the report says
    expect(Array.isArray(dep.abi)).toBe(true)
  })

  test('iris (JSON state_dict + nn.Module source, multi-class): every on-chain class equals PyTorch', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'ml2sc-e2e-'))
    const r = await runCliInProcess(['run', 'examples/iris/ml2sc.yaml', '--out', out, '--quiet']) // the process itself: the test above
    expect(r.code).toBe(0)
    const torch = readCsv(path.join(ROOT, 'examples/iris/reference.csv')).map((r) => r.slice(1).map(Number))
    const preds = readCsv(path.join(out, 'predictions.csv'))
    preds.forEach((p, i) => expect(Number(p[2])).toBe(torch[i]!.indexOf(Math.max(...torch[i]!))))
  })
})
