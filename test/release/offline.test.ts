// A cross target whose runtime (bun's base binary for that platform) or anvil package cannot be fetched is
// reported as failed, with the reason, and left out of SHA256SUMS: never faked, never a half archive.
// "Offline" here: every proxy variable bun and npm read points at a closed port, and bun's and npm's
// caches are empty folders.
import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { buildRelease, TARGETS } from '../../scripts/release.ts'
import { anvilBinary } from '../../scripts/release/anvilBinary.ts'

const work = mkdtempSync(path.join(tmpdir(), 'ml2sc-offline-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

// Generous: a refused connection fails at once, but if bun has the runtime cached somewhere we did not
// redirect, it compiles and packs first (~40 s idle); the limit only guards against a hang.
const closed = 'http://127.0.0.1:9'
const offline = {
  ...process.env,
  HTTPS_PROXY: closed, HTTP_PROXY: closed, https_proxy: closed, http_proxy: closed,
  npm_config_proxy: closed, npm_config_https_proxy: closed, npm_config_fetch_retries: '0',
  npm_config_cache: path.join(work, 'npm-cache'), BUN_INSTALL_CACHE_DIR: path.join(work, 'bun-cache'), HOME: path.join(work, 'home'),
}

test('offline, a cross target fails with the reason and is not in SHA256SUMS', async () => {
  const results = await buildRelease(TARGETS.filter((t) => t.name === 'linux-arm64'), {
    outDir: path.join(work, 'out'),
    cacheDir: path.join(work, 'cache'),
    timeoutMs: 300_000,
    env: offline,
  })
  expect(results.length).toBe(1)
  expect(results[0]!.ok).toBe(false)
  expect(results[0]!.error).toMatch(/(download|fetch).*(ConnectionRefused|ECONNREFUSED)|npm pack @foundry-rs\/anvil-linux-arm64@.* failed \(.*ECONNREFUSED/i)
  expect(readdirSync(path.join(work, 'out')).sort()).toEqual(['SHA256SUMS', 'release.json'])
  expect(readFileSync(path.join(work, 'out', 'SHA256SUMS'), 'utf8')).toBe('')
  const rel = JSON.parse(readFileSync(path.join(work, 'out', 'release.json'), 'utf8'))
  expect(rel.targets[0]).toMatchObject({ name: 'linux-arm64', ok: false, error: results[0]!.error })
}, 600_000)

test("offline, a target's anvil package: npm pack's own reason, and nothing left in the cache", async () => {
  const t = TARGETS.find((x) => x.name === 'darwin-arm64')!
  const cache = path.join(work, 'anvil-cache')
  const err = await anvilBinary(t, cache, offline).then(() => undefined, (e: Error) => e.message)
  expect(err).toMatch(/^npm pack @foundry-rs\/anvil-darwin-arm64@1\.7\.1 failed \(.*ECONNREFUSED.*\); anvil for darwin-arm64 needs the npm registry once$/)
  expect(readdirSync(path.join(cache, '@foundry-rs+anvil-darwin-arm64@1.7.1'))).toEqual([])
}, 600_000)
