// On a chain that costs money, `run` answers the test CSV and measures the one-row predict through
// eth_call with gas from eth_estimateGas: nothing is sent for them, and report.json says so. `evaluate
// --tx` sends the same batches as transactions: the receipts' gas equals the estimates, row for row the
// same outputs.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { toFunctionSelector, type Abi, type AbiFunction } from 'viem'
import { runCliInProcess } from '../helpers/cliInProcess.ts'
import { allTransactions, randomProject, startRemoteAnvil, type RemoteAnvil } from './helpers.ts'

let node: RemoteAnvil
beforeAll(async () => {
  node = await startRemoteAnvil({ chainId: 4248 })
})
afterAll(async () => await node?.stop())
const readJson = (f: string) => JSON.parse(readFileSync(f, 'utf8'))

describe('evaluation on a paid chain', () => {
  test('run: calls and estimates, no inference transaction; evaluate --tx: receipts with the same gas and outputs', async () => {
    const env = { ML2SC_PRIVATE_KEY: node.keys[0]! }
    const p = randomProject({ sizes: [12, 16, 3], rows: 30, seed: 8, yaml: `batch:\n  rows: 8\nchain:\n  rpcUrl: ${node.url}\n  chainId: 4248\n` })
    const r = await runCliInProcess(['run', p.config, '--yes'], { env })
    expect(r.stderr).not.toContain('ml2sc: error')
    expect(r.code).toBe(0)
    // the cost estimate has nothing for the evaluation: it is free
    expect(r.stderr).toMatch(/estimated cost [^\n]*deploy [\d,]+\)/)
    expect(r.stderr).not.toMatch(/estimated cost [^\n]*evaluate/)
    const dep = readJson(path.join(p.out, 'deployment.json'))
    const selectors = (dep.abi as Abi).filter((x): x is AbiFunction => x.type === 'function' && (x.name === 'predict' || x.name === 'predictBatch')).map((f) => toFunctionSelector(f))
    expect(selectors).toHaveLength(2)
    const sentToModel = async () => (await allTransactions(node.url)).filter((t) => t.to?.toLowerCase() === dep.address.toLowerCase())
    expect((await sentToModel()).filter((t) => selectors.some((s) => t.input.startsWith(s)))).toHaveLength(0)
    const called = readJson(path.join(p.out, 'evaluation.json'))
    expect(called.gasSource).toBe('estimate')
    expect(called.transactions).toHaveLength(4)
    for (const t of called.transactions) expect(t.hash).toBeNull()
    const report = readJson(path.join(p.out, 'report.json'))
    expect(report.gas.inferenceSource).toBe('estimate')
    expect(report.gas.predictSingleSource).toBe('estimate')
    expect(report.gas.predictSingle).toBeGreaterThan(21_000)
    expect(report.accuracy.agreement).toBe(1)
    expect(report.transactions.every((t: { hash: string | null }) => typeof t.hash === 'string')).toBe(true)
    expect(readFileSync(path.join(p.out, 'report.md'), 'utf8')).toMatch(/gas from eth_estimateGas: nothing was sent/)

    const e = await runCliInProcess(['evaluate', p.config, '--tx', '--yes'], { env })
    expect(e.stderr).not.toContain('ml2sc: error')
    expect(e.code).toBe(0)
    const sent = readJson(path.join(p.out, 'evaluation.json'))
    expect(sent.gasSource).toBe('receipt')
    expect(sent.transactions).toHaveLength(4)
    // eth_estimateGas is exact for this code: each batch's receipt gas equals its estimate
    expect(sent.transactions.map((t: { gasUsed: number }) => t.gasUsed)).toEqual(called.transactions.map((t: { gasUsed: number }) => t.gasUsed))
    expect(sent.predictSingle.gasUsed).toBe(called.predictSingle.gasUsed)
    expect(sent.rows).toEqual(called.rows)
    // what evaluate --tx priced before sending (eth_estimateGas on the deployed contract, not a formula)
    // is what the receipts then said: the 4 batches and the one-row predict, each within 2% (rows differ only in their calldata bytes)
    const priced = (label: string) => Number(new RegExp(`${label.replace(/[()]/g, '\\$&')} ≈ ([\\d,]+)`).exec(e.stderr)![1]!.replaceAll(',', ''))
    const batchGas = sent.transactions.reduce((a: number, t: { gasUsed: number }) => a + t.gasUsed, 0)
    expect(Math.abs(priced("evaluate") - batchGas) / batchGas).toBeLessThan(0.02)
    expect(Math.abs(priced('predict (one row)') - sent.predictSingle.gasUsed) / sent.predictSingle.gasUsed).toBeLessThan(0.02)
    expect((await sentToModel()).filter((t) => selectors.some((s) => t.input.startsWith(s)))).toHaveLength(5)
  }, 900_000)
})
