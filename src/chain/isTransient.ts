import { BaseError, HttpRequestError, TimeoutError } from 'viem'

// How a node failure reads: its text, and whether it is worth retrying. A leaf: the node probe, the
// sender and the error mapping all read it.

/** Every message in a viem error's cause chain, lowercased, for classifying node errors. */
export function errorText(e: unknown): string {
  const parts: string[] = []
  let x = e as { shortMessage?: string; details?: string; message?: string; cause?: unknown } | undefined
  for (let i = 0; x && i < 8; i++) {
    parts.push(String(x.shortMessage ?? ''), String(x.details ?? ''), String(x.message ?? ''))
    x = x.cause as typeof x
  }
  return parts.join(' | ').toLowerCase()
}

/** A failure worth retrying: the RPC did not answer (after the transport's own retries). */
export function isTransient(e: unknown): boolean {
  if (e instanceof BaseError && e.walk((x) => x instanceof HttpRequestError || x instanceof TimeoutError)) return true
  return /fetch failed|socket|econnreset|econnrefused|connection (was )?closed|timed out|took too long|http 5\d\d|status: 5\d\d/.test(errorText(e))
}
