// `ml2sc gas` against the receipts of a real `ml2sc run` on anvil (the shared body of gas-vs-receipts*.test.ts,
// split in two files so that they run side by side): `gas` runs the very transactions `run` sends on a
// private anvil, so it is never negative and never refuses a batch that `run` sends; within 10% is asserted.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ANCHORS, FIXTURES } from '../helpers/paths.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'
import { startRemoteAnvil, type RemoteAnvil } from '../chain/helpers.ts'

export type Case = { name: string; yaml: string }
/** A fixture with its test data, and `extra` config lines (a layout, a batch size). */
export const fixture = (name: string, extra = ''): Case => ({
  name: `${name}${extra ? ` (${extra.trim().replace(/\n\s*/g, ' ')})` : ''}`,
  yaml: `model:\n  path: ${path.join(FIXTURES, name, 'model.onnx')}\ndata:\n  test: ${path.join(FIXTURES, name, 'test.csv')}\n  label: label\n${extra}`,
})
/** ML2SC's own 30-4-1 model, from its weights JSON and nn.Module source. */
export const ml2sc: Case = {
  name: 'ml2sc 30-4-1 (ML2SC anchor)',
  yaml: `model:\n  path: ${path.join(ANCHORS, 'weights/MLP_2L4.json')}\n  source: ${path.join(ANCHORS, 'models.py')}\n  class: MLP_2L4\ndata:\n  test: ${path.join(ANCHORS, 'processed_data.csv')}\n  label: diagnosis\n  drop: [id]\n  limit: 50\n`,
}

type Report = { gas: { deploy: number; upload: number; predictSingle: number; inference: { perRow: number; batchRows: number } } }
type Estimate = { deploy: number; upload: number; predictSingle: number; perRow: number; batchRows: number }

const within = (est: number, got: number) => (got === 0 ? est === 0 : Math.abs(est - got) / got <= 0.1)

/**
 * One test per case: `ml2sc gas --json`, then `ml2sc run`, and each estimate within 10% of report.json's receipts.
 * `gas` runs on its own private anvil, as always; the runs share one anvil of the file (a loopback development
 * chain, chain id 31337: free, as the embedded one is), each deploying its own contract, instead of each
 * starting an anvil of its own. The shared admin library is deployed by the first run only, and `deploy`
 * never counts it (report.json's gas.adminLibrary does).
 */
export function gasVsReceipts(cases: Case[]): void {
  let dir: string
  let node: RemoteAnvil
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-gas-receipts-'))
    node = await startRemoteAnvil({ chainId: 31_337 })
  })
  afterAll(async () => {
    await node?.stop()
    rmSync(dir, { recursive: true, force: true })
  })
  describe('ml2sc gas vs the receipts of ml2sc run', () => {
    for (const c of cases)
      test(c.name, async () => {
        const slug = c.name.replace(/[^a-z0-9]+/gi, '_')
        const cfg = path.join(dir, `${slug}.yaml`)
        writeFileSync(cfg, c.yaml + `output: ${path.join(dir, slug)}\n`)
        const g = await runCliInProcess(['gas', cfg, '--json'])
        expect(g.stderr.split('\n').filter((l) => l.startsWith('ml2sc: error'))).toEqual([])
        expect(g.code).toBe(0)
        const est = JSON.parse(g.stdout) as Estimate
        const runCfg = path.join(dir, `${slug}.run.yaml`)
        writeFileSync(runCfg, c.yaml + `output: ${path.join(dir, slug)}\nchain:\n  rpcUrl: ${node.url}\n`)
        const r = await runCliInProcess(['run', runCfg], { env: { ML2SC_PRIVATE_KEY: node.keys[0]! } })
        expect(r.stderr.split('\n').filter((l) => l.startsWith('ml2sc: error'))).toEqual([])
        expect(r.code).toBe(0)
        const rep = (JSON.parse(readFileSync(path.join(dir, slug, 'report.json'), 'utf8')) as Report).gas
        const pairs: [string, number, number][] = [
          ['deploy', est.deploy, rep.deploy],
          ['upload', est.upload, rep.upload],
          ['predictSingle', est.predictSingle, rep.predictSingle],
          ['perRow', est.perRow, rep.inference.perRow],
        ]
        console.log(`${c.name}: ${pairs.map(([w, e, got]) => `${w} ${e}/${got} (${got ? (((e - got) / got) * 100).toFixed(1) : 0}%)`).join(', ')}`)
        for (const [what, e, got] of pairs) {
          expect(e).toBeGreaterThanOrEqual(0)
          expect(within(e, got), `${what}: gas says ${e}, the receipts ${got}`).toBe(true)
        }
        // the batch size run sends is the one gas reports (and measured)
        expect(est.batchRows).toBe(rep.inference.batchRows)
      }, 900_000)
  })
}
