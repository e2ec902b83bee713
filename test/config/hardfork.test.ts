// chain.hardfork: a name ml2sc does not know (an old fork, a typo) is refused in one line that names the
// key and the allowed values, instead of silently compiling for prague.
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config/loadConfig.ts'
import { ConfigError } from '../../src/errors/base.ts'

const dir = mkdtempSync(join(tmpdir(), 'ml2sc-hardfork-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
writeFileSync(join(dir, 'model.onnx'), '')
writeFileSync(join(dir, 'test.csv'), 'a,label\n1,0\n')

async function load(hardfork: string) {
  const file = join(dir, `${hardfork}.yaml`)
  writeFileSync(file, `model:\n  path: model.onnx\ndata:\n  test: test.csv\nchain:\n  hardfork: ${hardfork}\n`)
  return await loadConfig(file)
}

describe('chain.hardfork', () => {
  for (const bad of ['istanbul', 'londn', 'Prague'])
    test(`'${bad}' is refused with the allowed names`, async () => {
      const err = await load(bad).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(err).toBeInstanceOf(ConfigError)
      const msg = (err as ConfigError).shortMessage
      expect(msg).toBe(`chain.hardfork: must be one of berlin, london, paris, shanghai, cancun, prague, osaka (got '${bad}')`)
      expect(msg).not.toContain('\n')
    })

  test('every allowed name loads', async () => {
    for (const ok of ['berlin', 'london', 'paris', 'shanghai', 'cancun', 'prague', 'osaka']) expect((await load(ok)).chain.hardfork).toBe(ok)
  })
})
