// The stage subcommands as a user runs them: separate processes, each with its own embedded anvil
// resuming the chain from <out>/anvil-state.json (nothing kept in memory between stages, as the admin
// library and solc's results are within one process); --help with examples and one-line errors, which are
// src/cli.ts's own, run in the test's process (helpers/cliInProcess.ts).
import { describe, expect, test } from 'bun:test'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { runCli } from '../helpers/paths.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'
import { bcProject } from './helpers.ts'

const MINE = ['init', 'inspect', 'generate', 'compile', 'deploy', 'upload', 'evaluate', 'report']

describe('stage subcommands', () => {
  test('generate, compile, deploy, upload, evaluate, report: one process each, --json on stdout', async () => {
    const cfg = bcProject()
    const out = mkdtempSync(path.join(tmpdir(), 'ml2sc-cli-'))
    const step = async (cmd: string) => {
      const r = await runCli([cmd, cfg, '--out', out, '--json'])
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
      return JSON.parse(r.stdout)
    }
    expect(await step('generate')).toMatchObject({ contract: 'Ml2sc_model', task: 'binary', model: { shape: [30, 8, 1], parameters: 257 } })
    expect(await step('compile')).toMatchObject({ contract: 'Ml2sc_model', evmVersion: 'prague' })
    const d = await step('deploy')
    expect(d).toMatchObject({ chainId: 31337, local: true })
    expect(await step('upload')).toMatchObject({ address: d.address, sent: 0 }) // small model: weights embedded in the code
    const e = await step('evaluate')
    expect(e).toMatchObject({ rows: 50, answered: 50, refused: 0 })
    const r = await step('report')
    expect(r.reference.source).toBe('pytorch-csv') // agreement is with PyTorch's own outputs (data.reference)
    expect(r.accuracy.agreement).toBe(1)
    expect(r.simulator.mismatches).toBe(0)
    expect(r.gas.inference.perRow).toBe(e.gas.perRow)
    expect(r.predictions).toBeUndefined()
  })

  test('a missing artifact: one line naming the command to run', async () => {
    const cfg = bcProject()
    const r = await runCliInProcess(['upload', cfg])
    expect(r.code).toBe(1)
    expect(r.stderr.trim()).toMatch(/^ml2sc: error: no plan\.json in .*out\/: run `ml2sc generate .*ml2sc\.yaml` first$/)
  })

  test('--help on every stage command, with examples', async () => {
    const helps = await Promise.all(MINE.map((cmd) => runCliInProcess([cmd, '--help'])))
    for (const [i, cmd] of MINE.entries()) {
      const r = helps[i]!
      expect(r.code).toBe(0)
      expect(r.stdout).toContain(`ml2sc ${cmd}`)
      expect(r.stdout).toContain('Examples:')
    }
    const top = await runCliInProcess(['--help'])
    for (const cmd of MINE) expect(top.stdout).toMatch(new RegExp(`ml2sc ${cmd} <`))
  })
})
