// Issue 19, multi-output models: the client library's named view of the heads (HEAD_<NAME>_OFFSET/SIZE,
// predict<Head>, predict<Head>Class) for the two-head wine model, run by real forge against the deployed
// contract: each head's function equals its slice of predict, and the class head's argmax is ml2sc's.
import { expect, test } from 'bun:test'
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { FORGE_TIMEOUT, forgeTest } from '../helpers/forge.ts'
import { FIXTURES, runCli } from '../helpers/paths.ts'

const D = path.join(FIXTURES, 'graph', 'heads_wine')

test(
  'generate --foundry: predictLogits, predictLogitsClass and predictAlcohol pass their forge tests',
  async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-heads-forge-'))
    for (const f of ['model.state_dict.pt', 'model.py', 'test.csv', 'reference.csv']) copyFileSync(path.join(D, f), path.join(dir, f))
    writeFileSync(path.join(dir, 'ml2sc.yaml'), 'model:\n  path: model.state_dict.pt\n  source: model.py\ndata:\n  test: test.csv\n  label: [label, alcohol]\n  reference: reference.csv\n')
    const r = await runCli(['generate', 'ml2sc.yaml', '--foundry', 'forge'], { cwd: dir })
    expect(r.stderr).not.toContain('ml2sc: error')
    expect(r.code).toBe(0)
    const lib = readFileSync(path.join(dir, 'forge', 'src', readdirSync(path.join(dir, 'forge', 'src')).find((f) => f.endsWith('Client.sol'))!), 'utf8')
    expect(lib).toContain('uint256 internal constant HEAD_ALCOHOL_OFFSET = 3;')
    expect(lib).toContain('function predictLogitsClass(address model, int256[] memory features) internal view returns (uint256 best)')
    const t = readFileSync(path.join(dir, 'forge', 'test', readdirSync(path.join(dir, 'forge', 'test')).find((f) => f.endsWith('Client.t.sol'))!), 'utf8')
    expect(t).toContain('predictAlcohol differs from predict')
    const run = await forgeTest(path.join(dir, 'forge'))
    expect(run.failures).toEqual([])
    expect(run.failed).toBe(0)
    expect(run.passed).toBeGreaterThan(10)
  },
  FORGE_TIMEOUT,
)
