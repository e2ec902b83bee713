// Concurrent evaluation through eth_call (src/chain/adaptiveWindow.ts): the window of calls in flight grows
// while the node answers as fast as before, and backs off when it refuses or its HTTP layer has to retry.
// Against a real anvil behind a tiny proxy that plays an overloaded node: (a) a node that refuses (JSON-RPC
// -32005 "rate limit exceeded") any eth_call beyond 2 at once, (b) one whose every 4th eth_call is an HTTP
// 503. Each evaluation must still answer every row exactly as the simulator does, the window must have
// backed off, and (a) must not keep hammering: far fewer refusals than batches.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { Abi, Hex } from 'viem'
import { AdaptiveWindow, isOverload, PROBE_AFTER, underWindow } from '../../src/chain/adaptiveWindow.ts'
import { connectChain } from '../../src/chain/connectChain.ts'
import { loadConfig } from '../../src/config/loadConfig.ts'
import { simulateBatch } from '../../src/fixed/simulateBatch.ts'
import { evaluateRows } from '../../src/pipeline/evaluateRows.ts'
import { planFromJson } from '../../src/pipeline/planJson.ts'
import { bcProject, quiet } from '../commands/helpers.ts'
import { runCliInProcess } from '../helpers/cliInProcess.ts'
import { startRemoteAnvil, type RemoteAnvil } from './helpers.ts'

describe('AdaptiveWindow', () => {
  test('grows while latency holds, eases off when answers slow, halves on a refusal, stays within [1, max]', () => {
    const w = new AdaptiveWindow({ start: 2, max: 6 })
    for (let k = 0; k < 10; k++) w.answered(50)
    expect(w.limit).toBe(6)
    w.answered(400) // eight times the fastest: the node queues
    expect(w.limit).toBe(5)
    w.answered(90) // within twice the fastest: room again
    expect(w.limit).toBe(6)
    w.backOff()
    expect(w.limit).toBe(3)
    for (let k = 0; k < 5; k++) w.backOff()
    expect(w.limit).toBe(1)
    expect(w.backoffs).toBe(6)
    expect(w.peak).toBe(6)
  })

  test('a refusal with k calls in flight caps the window at k - 1 until PROBE_AFTER answers at that ceiling', () => {
    const w = new AdaptiveWindow({ start: 3, max: 32 })
    w.backOff(3)
    const limits: number[] = []
    for (let k = 0; k < PROBE_AFTER + 2; k++) (w.answered(10), limits.push(w.limit))
    expect(Math.max(...limits.slice(0, PROBE_AFTER))).toBe(2)
    expect(limits.at(-1)).toBe(3)
  })

  test('an HTTP-level retry seen since the last answer counts as a refusal', () => {
    let retries = 0
    const w = new AdaptiveWindow({ start: 8 }, () => retries)
    w.answered(10)
    expect(w.limit).toBe(9)
    retries = 2
    w.answered(10)
    expect(w.limit).toBe(4)
    w.answered(10)
    expect(w.limit).toBe(5)
  })

  test('underWindow retries an overload, not a revert', async () => {
    const w = new AdaptiveWindow({ start: 4 })
    let calls = 0
    const value = await underWindow(w, async () => {
      if (++calls < 3) throw new Error('rate limit exceeded')
      return 7
    })
    expect([value, calls, w.backoffs]).toEqual([7, 3, 2])
    expect(isOverload(new Error('execution reverted: FeatureOutOfRange(3)'))).toBe(false)
    await expect(underWindow(w, async () => Promise.reject(new Error('execution reverted')))).rejects.toThrow('execution reverted')
  })
})

type Proxy = { url: string; stop: () => void; stats: { calls: number; refused: number; maxAdmitted: number } }

/** An HTTP JSON-RPC proxy in front of `target` that delays eth_call by `delayMs` and refuses as told. */
function proxy(target: string, refuse: (inFlight: number, nth: number) => 'rpc' | 'http' | undefined, delayMs = 25): Proxy {
  const stats = { calls: 0, refused: 0, maxAdmitted: 0 }
  let inFlight = 0
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      const body = await req.text()
      const msg = JSON.parse(body) as { id: number; method: string }
      const forward = () => fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then(async (r) => new Response(await r.text(), { status: r.status, headers: { 'content-type': 'application/json' } }))
      if (msg.method !== 'eth_call') return forward()
      stats.calls++
      inFlight++
      try {
        const why = refuse(inFlight, stats.calls)
        if (why) {
          stats.refused++
          if (why === 'http') return new Response('overloaded', { status: 503 })
          return Response.json({ jsonrpc: '2.0', id: msg.id, error: { code: -32005, message: 'rate limit exceeded' } })
        }
        stats.maxAdmitted = Math.max(stats.maxAdmitted, inFlight)
        await Bun.sleep(delayMs)
        return await forward()
      } finally {
        inFlight--
      }
    },
  })
  return { url: `http://127.0.0.1:${server.port}`, stop: () => server.stop(true), stats }
}

describe('eth_call evaluation against an overloaded node (real anvil behind a proxy)', () => {
  let node: RemoteAnvil
  let cfgFile: string
  beforeAll(async () => {
    node = await startRemoteAnvil({ chainId: 31_337 })
    // deployed and uploaded by a real run on that node; one row per batch: 50 batches to spread
    cfgFile = bcProject(`chain:\n  rpcUrl: ${node.url}\nbatch:\n  rows: 1\n`)
    // (src/cli.ts in this process: the setup, not the process, is what the run is for)
    const r = await runCliInProcess(['run', cfgFile, '--quiet'], { env: { ML2SC_PRIVATE_KEY: node.keys[0]! } })
    expect(r.code).toBe(0)
  })
  afterAll(async () => await node?.stop())

  /** Evaluate the test CSV through the proxy with eth_call; the window, the rows and the simulator's answers. */
  async function evaluateThrough(p: Proxy) {
    writeFileSync(cfgFile, readFileSync(cfgFile, 'utf8').replace(/rpcUrl: .*/, `rpcUrl: ${p.url}`))
    const config = await loadConfig(cfgFile, {})
    const out = path.join(path.dirname(cfgFile), 'out')
    const plan = planFromJson(JSON.parse(readFileSync(path.join(out, 'plan.json'), 'utf8')).plan)
    const dep = JSON.parse(readFileSync(path.join(out, 'deployment.json'), 'utf8')) as { address: Hex; abi: Abi }
    const s = await connectChain(config.chain, { ML2SC_PRIVATE_KEY: node.keys[0]!, ML2SC_RPC_BACKOFF_MS: '20', ML2SC_RPC_RETRIES: '6' })
    const window = new AdaptiveWindow({ start: 2, max: 32 }, s.rpcRetries)
    try {
      const ev = await evaluateRows(s, dep.address, dep.abi, plan, config, quiet, { tx: false, window })
      const answered = ev.rows.filter((r) => r.input)
      const want = simulateBatch(plan, answered.map((r) => r.input!))
      return { window, ev, answered, want, batches: ev.txs.length }
    } finally {
      await s.close()
    }
  }

  test('a node that answers at most 2 calls at once: the window backs off to it, every row exact', async () => {
    const p = proxy(node.url, (inFlight) => (inFlight > 2 ? 'rpc' : undefined))
    try {
      const { window, answered, want, batches } = await evaluateThrough(p)
      expect(answered.length).toBe(50)
      expect(answered.map((r) => r.raw!.map(String))).toEqual(want.map((o) => o.map(String)))
      expect(batches).toBe(50)
      expect(p.stats.refused).toBeGreaterThan(0)
      expect(window.backoffs).toBeGreaterThan(0)
      expect(p.stats.maxAdmitted).toBeLessThanOrEqual(2)
      // additive increase after each halving: a refusal now and then, not one per batch
      expect(p.stats.refused).toBeLessThan(batches / 2)
    } finally {
      p.stop()
    }
  })

  test('a node whose every 4th call is an HTTP 503: retried by the transport, the window backs off, every row exact', async () => {
    const p = proxy(node.url, (_inFlight, nth) => (nth % 4 === 0 ? 'http' : undefined))
    try {
      const { window, answered, want } = await evaluateThrough(p)
      expect(answered.map((r) => r.raw!.map(String))).toEqual(want.map((o) => o.map(String)))
      expect(p.stats.refused).toBeGreaterThan(5)
      expect(window.backoffs).toBeGreaterThan(0)
    } finally {
      p.stop()
    }
  })

  test('a node with room: the window grows past the starting 2', async () => {
    const p = proxy(node.url, () => undefined, 40)
    try {
      const { window, answered, want } = await evaluateThrough(p)
      expect(answered.map((r) => r.raw!.map(String))).toEqual(want.map((o) => o.map(String)))
      expect(window.peak).toBeGreaterThan(2)
      expect(p.stats.maxAdmitted).toBeGreaterThan(2)
    } finally {
      p.stop()
    }
  })
})
