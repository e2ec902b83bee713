// Reproducibility (issue 7, part 6): the same config and model give byte-identical Solidity, plan and
// bytecode (compiled in separate processes, so solc's in-process cache cannot hide a difference), and two
// runs give the same report apart from its timestamp, addresses and transaction hashes. The report
// records what made it: ml2sc, solc, anvil, the hardfork and the config hash.
import { describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { runCli } from '../helpers/paths.ts'
import { runCommand } from '../../src/commands/run.ts'
import { loadConfig } from '../../src/config/loadConfig.ts'
import { generateStage } from '../../src/pipeline/stages/generate.ts'
import { bcProject, quiet } from './helpers.ts'

const read = (dir: string, f: string) => readFileSync(path.join(dir, f), 'utf8')
const outDir = () => mkdtempSync(path.join(tmpdir(), 'ml2sc-repro-'))

/** The report without what legitimately differs between two runs. */
function normalized(report: Record<string, unknown>) {
  const text = JSON.stringify({ ...report, createdAt: undefined })
  return JSON.parse(text.replace(/0x[0-9a-fA-F]{64}/g, '<hash>').replace(/0x[0-9a-fA-F]{40}/g, '<address>'))
}

describe('reproducibility', () => {
  test('generate + compile twice: byte-identical .sol, plan.json and artifact', async () => {
    const cfg = bcProject()
    const [a, b] = [outDir(), outDir()]
    for (const out of [a, b]) {
      await generateStage(await loadConfig(cfg, { output: out }), quiet)
      // no shared disk cache (the test runner's ML2SC_COMPILE_CACHE): each process's bytecode is solc's own
      const r = await runCli(['compile', cfg, '--out', out, '--quiet'], { env: { ML2SC_COMPILE_CACHE: '' } })
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
    }
    for (const f of ['Ml2sc_model.sol', 'plan.json', 'Ml2sc_model.json', 'Ml2sc_model.input.json', 'Ml2scAdmin.input.json']) expect(read(a, f)).toBe(read(b, f))
    const art = JSON.parse(read(a, 'Ml2sc_model.json'))
    expect(art.bytecode.length).toBeGreaterThan(100)
  })

  test('two runs: the same report apart from the timestamp; versions, hardfork and config hash recorded', async () => {
    const cfg = bcProject()
    const [a, b] = [outDir(), outDir()]
    for (const out of [a, b]) await runCommand({ config: cfg, out }, quiet)
    const [ra, rb] = [JSON.parse(read(a, 'report.json')), JSON.parse(read(b, 'report.json'))]
    expect(normalized(ra)).toEqual(normalized(rb))
    for (const f of ['Ml2sc_model.sol', 'plan.json', 'Ml2sc_model.json', 'predictions.csv', 'report.md']) expect(read(a, f)).toBe(read(b, f))
    expect(ra.ml2sc).toBe('0.1.0')
    expect(ra.tools.solc).toMatch(/^0\.8\.37\+commit\./)
    expect(ra.tools.anvil).toMatch(/^anvil 1\.7\.1/)
    expect(ra.tools.hardfork).toBe('prague')
    expect(ra.tools.evmVersion).toBe('prague')
    expect(ra.config.hash).toMatch(/^[0-9a-f]{64}$/)
    expect(ra.config.hash).toBe(JSON.parse(read(a, 'plan.json')).configHash)
  })
})
