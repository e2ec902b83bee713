// With --json a failure is one JSON object on stdout, {"error", "where", "hint"}, as well as the one line
// on stderr, and the exit code is still non-zero: a script reading stdout always gets JSON.
import { expect, test } from 'bun:test'
import { runCliInProcess as runCli } from '../helpers/cliInProcess.ts'

test('--json errors: a missing config, a bad command line, no command', async () => {
  const missing = await runCli(['predict', 'nope.yaml', '--input', 'rows.csv', '--json'])
  expect(missing.code).toBe(1)
  expect(JSON.parse(missing.stdout)).toEqual({ error: 'config file not found', where: 'nope.yaml', hint: 'create one with `ml2sc init`' })
  expect(missing.stderr).toMatch(/^ml2sc: error: nope\.yaml: config file not found/)

  const unknown = await runCli(['report', 'x.yaml', '--no-such-flag', '--json'])
  expect(unknown.code).toBe(1)
  const u = JSON.parse(unknown.stdout)
  expect(u.error).toMatch(/unknown option --no-such-flag/i)
  expect(u.where).toBeNull()
  expect(u.hint).toContain('--help')

  const none = await runCli(['--json'])
  expect(none.code).toBe(1)
  expect(JSON.parse(none.stdout)).toMatchObject({ error: 'no command given', where: null })
  expect(none.stdout.trim().split('\n')).toHaveLength(1)
})
