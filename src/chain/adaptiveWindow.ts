import { errorText, isTransient } from './isTransient.ts'

/**
 * How many calls to keep in flight at a node, found as it answers (additive increase, multiplicative
 * decrease, as TCP does): the window grows by one after each answer that came back about as fast as the
 * fastest so far (latency holds: the node has room), eases off by one when answers slow to several times
 * that (the node queues them), and halves on a refusal, a timeout or a retry at the HTTP level (the node
 * says it has too much). A refusal with k calls in flight also sets a ceiling of k − 1, probed again (one
 * more) only after PROBE_AFTER answers at it, so that a node with a hard limit is not refused every few
 * calls. It never goes below 1 or above `max`.
 */
export class AdaptiveWindow {
  limit: number
  readonly max: number
  /** The largest limit reached, and how many times it backed off (for the log and the tests). */
  peak: number
  backoffs = 0
  /** Calls started and not yet settled (underWindow). */
  inFlight = 0
  private fastest = Infinity
  private seenRetries = 0
  private ceiling = Infinity
  private atCeiling = 0
  constructor(
    opts: { start?: number; max?: number } = {},
    /** Transport-level retries so far (HTTP 429/5xx, timeouts retried by rpcTransport): each is a sign of overload. */
    private retries: () => number = () => 0,
  ) {
    this.max = opts.max ?? 32
    this.limit = Math.min(this.max, opts.start ?? 2)
    this.peak = this.limit
  }

  /** An answer after `ms` of wall time. */
  answered(ms: number): void {
    const r = this.retries()
    if (r > this.seenRetries) {
      this.seenRetries = r
      return this.backOff()
    }
    this.fastest = Math.min(this.fastest, ms)
    if (ms <= this.fastest * 2 + 5) this.grow()
    else if (ms > this.fastest * 4 + 20) this.limit = Math.max(1, this.limit - 1)
    this.peak = Math.max(this.peak, this.limit)
  }

  private grow(): void {
    if (this.limit >= this.max) return
    if (this.limit + 1 <= this.ceiling) this.limit++
    else if (++this.atCeiling >= PROBE_AFTER) {
      this.atCeiling = 0
      this.ceiling++
      this.limit++
    }
  }

  /** The node refused or timed out (`inFlight`: the calls outstanding when the refused one was made): half the window. */
  backOff(inFlight?: number): void {
    this.backoffs++
    if (inFlight !== undefined) this.ceiling = Math.max(1, Math.min(this.ceiling, inFlight - 1))
    this.atCeiling = 0
    this.limit = Math.max(1, Math.floor(this.limit / 2))
  }
}

/** Answers at the ceiling before the window tries one call more. */
export const PROBE_AFTER = 16

/** A node's way of saying "too much at once" (JSON-RPC errors pass the HTTP retries untouched), or no answer at all. */
export function isOverload(e: unknown): boolean {
  return isTransient(e) || /rate.?limit|too many|limit exceeded|exceeds? (the )?(rate|capacity)|capacity|busy|try again|-32005|overload|timeout/.test(errorText(e))
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Run one call under the window: its latency feeds the window; an overload backs the window off and the
 * call is tried again after a pause (up to `attempts` in all); any other error is the caller's.
 */
export async function underWindow<T>(w: AdaptiveWindow, call: () => Promise<T>, attempts = 8): Promise<T> {
  for (let k = 1; ; k++) {
    const t0 = Date.now()
    const outstanding = ++w.inFlight
    try {
      const value = await call()
      w.answered(Date.now() - t0)
      return value
    } catch (e) {
      if (k >= attempts || !isOverload(e)) throw e
      w.backOff(outstanding)
      await sleep(Math.min(4_000, 100 * 2 ** (k - 1)))
    } finally {
      w.inFlight--
    }
  }
}
