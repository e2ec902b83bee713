import path from 'node:path'

export const ROOT = path.resolve(import.meta.dir, '../..')
export const ANCHORS = path.join(ROOT, 'test/fixtures/ml2sc')
export const FIXTURES = path.join(ROOT, 'test/fixtures')
export const CLI = path.join(ROOT, 'bin/ml2sc')

/** Run the CLI as a user would; returns exit code and output. */
export async function runCli(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) {
  const proc = Bun.spawn([CLI, ...args], { cwd: opts.cwd ?? ROOT, stdout: 'pipe', stderr: 'pipe', env: { ...process.env, CI: '1', ...opts.env } })
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()])
  return { code: await proc.exited, stdout, stderr }
}
