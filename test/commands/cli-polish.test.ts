// Newcomer polish of the command line: `run` says anvil is missing before compiling anything, and --yes
// is offered (and accepted) only by the commands that can spend money.
import { describe, expect, test } from 'bun:test'
import { existsSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { runCliInProcess as runCli } from '../helpers/cliInProcess.ts'
import { bcProject } from './helpers.ts'

describe('run without anvil', () => {
  test('fails first, in one line, with nothing generated or compiled', async () => {
    const cfg = bcProject()
    const r = await runCli(['run', cfg], { env: { ANVIL_BIN: '/nonexistent/anvil' } })
    expect(r.code).toBe(1)
    expect(r.stderr.trim().split('\n').filter((l) => l.startsWith('ml2sc: error'))).toEqual([expect.stringMatching(/ANVIL_BIN: ANVIL_BIN points to \/nonexistent\/anvil, which is not a file/)])
    const out = path.join(path.dirname(cfg), 'out')
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([])
  })

  test('with chain.rpcUrl no anvil is needed, so none is looked for', async () => {
    const cfg = bcProject('chain:\n  rpcUrl: http://127.0.0.1:1\n')
    const r = await runCli(['run', cfg, '--yes'], { env: { ANVIL_BIN: '/nonexistent/anvil', ML2SC_PRIVATE_KEY: '0x' + '11'.repeat(32) } })
    expect(r.code).toBe(1)
    expect(r.stderr).not.toContain('ANVIL_BIN')
    expect(r.stderr).toMatch(/cannot reach the RPC/)
  })
})

describe('--yes only where it means something', () => {
  const spending = ['run', 'deploy', 'upload', 'evaluate', 'update', 'predict']
  const free = ['init', 'inspect', 'generate', 'compile', 'report', 'verify', 'gas']

  test('in --help of the commands that can send paid transactions, and nowhere else', async () => {
    const helps = await Promise.all([...spending, ...free].map(async (c) => [c, (await runCli([c, '--help'])).stdout] as const))
    for (const [c, text] of helps) expect([c, /--yes\b/.test(text)]).toEqual([c, spending.includes(c)])
    expect((await runCli(['--help'])).stdout).not.toMatch(/--yes\b/)
  })

  test('given to a command that cannot spend, it is an unknown argument', async () => {
    const r = await runCli(['verify', bcProject(), '--yes'])
    expect(r.code).toBe(1)
    expect(r.stderr.trim()).toMatch(/^ml2sc: error: unknown option --yes for `ml2sc verify`/)
  })
})
