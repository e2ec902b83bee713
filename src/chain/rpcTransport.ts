import { http, type HttpTransport } from 'viem'

/**
 * Retries for a flaky JSON-RPC endpoint, done at the HTTP level so that every call (reads, estimates,
 * raw transaction sends) gets them and JSON-RPC errors pass through untouched:
 *   - a connection refused, reset or closed before the whole response arrived (a 200 whose body is not
 *     complete JSON included),
 *   - no complete response within the per-attempt timeout,
 *   - HTTP 408, 429 and 5xx,
 * each retried with exponential backoff and jitter. Re-sending `eth_sendRawTransaction` is safe: the same
 * signed bytes have the same hash, and sendTx treats "already known" / "nonce too low" for its own hash as
 * sent.
 *
 * Tunables (environment; the defaults suit public RPCs): ML2SC_RPC_TIMEOUT_MS (per attempt, default
 * 30,000), ML2SC_RPC_RETRIES (default 6), ML2SC_RPC_BACKOFF_MS (first delay, default 250; doubles up to 8 s).
 */
export type RetryOptions = { timeoutMs: number; retries: number; backoffMs: number; onRetry?: (what: string, attempt: number) => void }

export function retryOptionsFrom(env: NodeJS.ProcessEnv = process.env): RetryOptions {
  const num = (v: string | undefined, d: number) => (v !== undefined && v !== '' && Number.isFinite(Number(v)) ? Number(v) : d)
  return {
    timeoutMs: num(env.ML2SC_RPC_TIMEOUT_MS, 30_000),
    retries: num(env.ML2SC_RPC_RETRIES, 6),
    backoffMs: num(env.ML2SC_RPC_BACKOFF_MS, 250),
  }
}

const RETRY_STATUS = new Set([408, 425, 429, 500, 502, 503, 504])
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export function backoff(attempt: number, base: number): number {
  const d = Math.min(base * 2 ** attempt, 8_000)
  return Math.round(d / 2 + Math.random() * (d / 2))
}

const decoder = new TextDecoder()
function isJson(body: ArrayBuffer): boolean {
  try {
    JSON.parse(decoder.decode(body))
    return true
  } catch {
    return false
  }
}

/** A fetch that retries transient failures; the body is read inside the attempt so a stalled body retries too. */
export function retryingFetch(opts: RetryOptions): typeof fetch {
  const f = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const outer = init?.signal ?? undefined
    let last: unknown
    for (let attempt = 0; ; attempt++) {
      if (outer?.aborted) throw outer.reason
      const timeout = AbortSignal.timeout(opts.timeoutMs)
      const signal = outer ? AbortSignal.any([outer, timeout]) : timeout
      let why: string
      try {
        const res = await fetch(input, { ...init, signal })
        const body = await res.arrayBuffer()
        if (!RETRY_STATUS.has(res.status)) {
          if (!res.ok || isJson(body)) return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers })
          // a 200 whose body is cut short: the connection broke mid-answer
          throw new Error('truncated response body')
        }
        why = `HTTP ${res.status}`
        last = new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers })
        const after = Number(res.headers.get('retry-after'))
        if (attempt < opts.retries && Number.isFinite(after) && after > 0) {
          opts.onRetry?.(why, attempt + 1)
          await sleep(Math.min(after * 1000, 10_000))
          continue
        }
      } catch (e) {
        if (outer?.aborted) throw e
        why = timeout.aborted ? `no response in ${opts.timeoutMs} ms` : String((e as Error)?.message ?? e)
        last = e
      }
      if (attempt >= opts.retries) {
        if (last instanceof Response) return last
        throw last
      }
      opts.onRetry?.(why, attempt + 1)
      await sleep(backoff(attempt, opts.backoffMs))
    }
  }
  return f as typeof fetch
}

/** viem HTTP transport over `retryingFetch` (viem's own retries off, its timeout above all attempts). */
export function rpcTransport(url: string, opts: RetryOptions = retryOptionsFrom()): HttpTransport {
  const total = (opts.retries + 1) * opts.timeoutMs + (opts.retries + 1) * 8_000
  return http(url, { fetchFn: retryingFetch(opts), retryCount: 0, timeout: total })
}
