// Start-up: a command loads only what it uses. `ml2sc --help` loads the CLI's own wiring and yargs, and no
// solc, viem, protobufjs (the ONNX decoder), ajv or yaml; `generate` uses the committed admin library
// build instead of loading solc. (CPU time itself is measured by bench/speed.ts, not asserted here.)
import { expect, test } from 'bun:test'
import path from 'node:path'
import { ROOT } from '../helpers/paths.ts'
import { bcProject } from './helpers.ts'

const BUN = process.execPath

/** The packages (node_modules/<name>) a CLI invocation loaded, from the preload's list at exit. */
async function packagesLoaded(args: string[]): Promise<{ code: number; packages: Set<string> }> {
  const proc = Bun.spawn([BUN, '--preload', path.join(ROOT, 'test/helpers/listModulesAtExit.ts'), path.join(ROOT, 'src/cli.ts'), ...args], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe', env: { ...process.env, CI: '1' } })
  const [, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()])
  const code = await proc.exited
  const list = stderr.slice(stderr.indexOf('--- modules ---'))
  const packages = new Set([...list.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)\//g)].map((m) => m[1]!))
  return { code, packages }
}

const HEAVY = ['solc', 'viem', 'protobufjs', 'ajv', 'yaml', 'ox', '@noble/curves']

test('--help, and a usage error, load none of the heavy packages', async () => {
  for (const args of [['--help'], ['run', '--help'], ['run'], ['rnu']]) {
    const { packages } = await packagesLoaded(args)
    expect([args.join(' '), HEAVY.filter((p) => packages.has(p))]).toEqual([args.join(' '), []])
    expect(packages.has('yargs')).toBe(true)
  }
})

test('generate (ONNX model) loads the ONNX decoder but not solc', async () => {
  const { code, packages } = await packagesLoaded(['generate', bcProject(), '--quiet'])
  expect(code).toBe(0)
  expect(packages.has('protobufjs')).toBe(true)
  expect(packages.has('solc')).toBe(false)
}, 900_000) // one CLI process: seconds, more on a busy machine
