// The logger's spinner: animated on a TTY, plain lines when piped or under CI, silent with --quiet.
import { afterEach, describe, expect, test } from 'bun:test'
import { createLogger } from '../../src/ui/logger.ts'
import { rateText } from '../../src/ui/rateText.ts'

function fakeStream(isTTY: boolean) {
  const chunks: string[] = []
  return { stream: { isTTY, write: (s: string) => (chunks.push(s), true) } as unknown as NodeJS.WriteStream, text: () => chunks.join('') }
}
const savedCI = process.env.CI
afterEach(() => {
  if (savedCI === undefined) delete process.env.CI
  else process.env.CI = savedCI
})

describe('spinner', () => {
  test('on a TTY: frames while it runs, then one line with the time', async () => {
    delete process.env.CI
    const f = fakeStream(true)
    const log = createLogger({ stream: f.stream })
    const v = await log.task('deploy X', () => new Promise((r) => setTimeout(() => r(42), 250)))
    expect(v).toBe(42)
    const text = f.text()
    expect((text.match(/\r\x1b\[2K[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] deploy X/g) ?? []).length).toBeGreaterThan(1) // it animated
    expect(text).toMatch(/• deploy X · 0\.\d s\n$/)
  })

  test('piped or CI=1: one plain line, no escape codes', async () => {
    for (const [tty, ci] of [[false, undefined], [true, '1']] as const) {
      if (ci) process.env.CI = ci
      else delete process.env.CI
      const f = fakeStream(tty)
      await createLogger({ stream: f.stream }).task('compile A.sol', () => 1)
      expect(f.text()).toBe('• compile A.sol\n')
    }
  })

  test('a failure clears the spinner and passes the error on; --quiet prints nothing', async () => {
    delete process.env.CI
    const f = fakeStream(true)
    const err = await createLogger({ stream: f.stream })
      .task('deploy', async () => {
        throw new Error('boom')
      })
      .catch((e) => e)
    expect(err.message).toBe('boom')
    expect(f.text().endsWith('\r\x1b[2K')).toBe(true)
    const q = fakeStream(true)
    await createLogger({ stream: q.stream, quiet: true }).task('x', () => 1)
    expect(q.text()).toBe('')
  })
})

test('a progress rate never reads 0: rows/s, with a decimal below 10, else seconds per row', () => {
  expect(rateText(1000, 2)).toBe('500 rows/s')
  expect(rateText(25_000, 2)).toBe('12,500 rows/s')
  expect(rateText(17, 5)).toBe('3.4 rows/s')
  expect(rateText(17, 200)).toBe('11.8 s/row')
  expect(rateText(1, 0)).toBe('1,000 rows/s')
})
