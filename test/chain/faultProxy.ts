// A JSON-RPC proxy in front of anvil that injects the faults of a bad network and a flaky provider:
// HTTP 503s, requests that never get an answer (timeouts), responses dropped after the node has acted
// on the request (the connection closes with no reply), truncated bodies, raw transactions the "node"
// acknowledges but never mines (dropped from its pool), spurious nonce errors, and transactions replaced
// by another one with the same nonce (as when a second program sends from the same account).
// Plain TCP (node:net) so that a dropped response really is a closed socket.
import { createServer, type Server, type Socket } from 'node:net'
import { keccak256, parseTransaction, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'

export type FaultPlan = {
  /** Faults start after this many requests (the probe and first reads go through). */
  warmup: number
  every503: number
  everyHang: number
  everyDrop: number
  everyTruncate: number
  /** Caps, so that a run stays fast. */
  max503: number
  maxHang: number
  maxDrop: number
  maxTruncate: number
  /** Acknowledge but never forward the n-th, m-th… eth_sendRawTransaction (1-based). */
  swallowTx: number[]
  /** Answer "nonce too low" (without forwarding) to these eth_sendRawTransaction (1-based). */
  nonceErrorTx: number[]
  /**
   * Send, in place of the nth transaction calling `selector` (or the next one with a fresh nonce), another
   * transaction with the same nonce: ml2sc's never runs.
   */
  replace?: { selector: Hex; nth: number }[]
  /** The key of the sending account (to sign the replacements). */
  key?: Hex
  hangMs: number
  /** While this says true, the node is unreachable: every connection is closed unanswered. */
  down?: () => boolean
}

export type FaultStats = { requests: number; forwarded: number; e503: number; hangs: number; drops: number; truncated: number; swallowed: number; nonceErrors: number; replaced: number; sendRaw: number; methods: Record<string, number> }

export async function startFaultProxy(upstream: string, plan: FaultPlan): Promise<{ url: string; stats: FaultStats; stop: () => Promise<void> }> {
  const stats: FaultStats = { requests: 0, forwarded: 0, e503: 0, hangs: 0, drops: 0, truncated: 0, swallowed: 0, nonceErrors: 0, replaced: 0, sendRaw: 0, methods: {} }
  const sockets = new Set<Socket>()
  const seen: Record<string, number> = {}
  const done = new Set<number>()
  const reply = (sock: Socket, status: number, body: string, length = Buffer.byteLength(body)) => {
    sock.end(`HTTP/1.1 ${status} ${status === 200 ? 'OK' : 'Service Unavailable'}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\nConnection: close\r\n\r\n${body}`)
  }
  const handle = async (sock: Socket, body: string) => {
    const n = ++stats.requests
    if (plan.down?.()) return sock.destroy()
    let msg: { id?: unknown; method?: string; params?: unknown[] } | { id?: unknown; method?: string }[]
    try {
      msg = JSON.parse(body)
    } catch {
      return reply(sock, 400, '{}')
    }
    const method = Array.isArray(msg) ? 'batch' : String(msg.method)
    stats.methods[method] = (stats.methods[method] ?? 0) + 1
    const faulty = n > plan.warmup
    if (!Array.isArray(msg) && method === 'eth_sendRawTransaction') {
      const k = ++stats.sendRaw
      const raw = msg.params![0] as Hex
      if (plan.swallowTx.includes(k)) {
        stats.swallowed++
        return reply(sock, 200, JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: keccak256(raw) }))
      }
      if (plan.nonceErrorTx.includes(k)) {
        stats.nonceErrors++
        return reply(sock, 200, JSON.stringify({ jsonrpc: '2.0', id: msg.id, error: { code: -32003, message: 'nonce too low' } }))
      }
      const tx = parseTransaction(raw)
      const selector = (tx.data ?? '0x').slice(0, 10)
      seen[selector] = (seen[selector] ?? 0) + 1
      const target = (plan.replace ?? []).find((r, i) => !done.has(i) && r.selector === selector && seen[selector]! >= r.nth)
      if (target && plan.key) {
        // someone else with the same key gets in first: a 0-value self-transfer with our nonce (only for
        // a fresh nonce: a re-send of a transaction already mined is left alone, and the next send tried)
        const account = privateKeyToAccount(plan.key)
        const other = await account.signTransaction({ chainId: tx.chainId!, nonce: tx.nonce!, to: account.address, value: 0n, gas: 21_000n, maxFeePerGas: tx.maxFeePerGas! * 2n, maxPriorityFeePerGas: tx.maxPriorityFeePerGas! * 2n, type: 'eip1559' })
        const res = await fetch(upstream, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_sendRawTransaction', params: [other] }), headers: { 'content-type': 'application/json' } })
        if (!(await res.json()).error) {
          done.add(plan.replace!.indexOf(target))
          stats.replaced++
          return reply(sock, 200, JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: keccak256(raw) }))
        }
      }
    }
    if (faulty && n % plan.every503 === 0 && stats.e503 < plan.max503) {
      stats.e503++
      return reply(sock, 503, '{"error":"upstream busy"}')
    }
    if (faulty && n % plan.everyHang === 0 && stats.hangs < plan.maxHang) {
      stats.hangs++
      await Bun.sleep(plan.hangMs)
      return sock.destroy()
    }
    const res = await fetch(upstream, { method: 'POST', body, headers: { 'content-type': 'application/json' } })
    const text = await res.text()
    stats.forwarded++
    if (faulty && n % plan.everyDrop === 0 && stats.drops < plan.maxDrop) {
      // the node acted on it; the answer never arrives
      stats.drops++
      return sock.destroy()
    }
    if (faulty && n % plan.everyTruncate === 0 && stats.truncated < plan.maxTruncate) {
      stats.truncated++
      return reply(sock, 200, text.slice(0, Math.floor(text.length / 2)))
    }
    reply(sock, res.status, text)
  }
  const server: Server = createServer((sock) => {
    sockets.add(sock)
    sock.on('close', () => sockets.delete(sock))
    sock.on('error', () => {})
    let buf = Buffer.alloc(0)
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d])
      const end = buf.indexOf('\r\n\r\n')
      if (end < 0) return
      const head = buf.subarray(0, end).toString()
      const len = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? 0)
      if (buf.length < end + 4 + len) return
      const body = buf.subarray(end + 4, end + 4 + len).toString()
      buf = Buffer.alloc(0)
      handle(sock, body).catch(() => sock.destroy())
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const port = (server.address() as { port: number }).port
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    stop: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
}
