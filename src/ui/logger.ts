/**
 * Terminal output: plain lines when piped or under CI, a live status line on a TTY. `--json` keeps stdout
 * for the one machine-readable object, so everything here goes to stderr.
 */
export type Logger = {
  info: (msg: string) => void
  step: (msg: string) => void
  detail: (msg: string) => void
  progress: (label: string, done: number, total: number, extra?: string) => void
  done: () => void
  verbose: boolean
}

export function createLogger(opts: { quiet?: boolean; verbose?: boolean; stream?: NodeJS.WriteStream } = {}): Logger {
  const out = opts.stream ?? process.stderr
  const live = Boolean(out.isTTY) && !process.env.CI
  let pending = false
  let lastPlain = 0
  const clear = () => {
    if (pending) out.write('\r\x1b[2K')
    pending = false
  }
  const write = (s: string) => {
    if (opts.quiet) return
    clear()
    out.write(s + '\n')
  }
  return {
    verbose: Boolean(opts.verbose),
    info: write,
    step: (m) => write(`• ${m}`),
    detail: (m) => {
      if (opts.verbose) write(`  ${m}`)
    },
    progress: (label, done, total, extra) => {
      if (opts.quiet) return
      const pct = total ? Math.floor((done / total) * 100) : 100
      const width = 24
      const fill = Math.round((pct / 100) * width)
      const line = `  ${label} [${'█'.repeat(fill)}${'░'.repeat(width - fill)}] ${done}/${total}${extra ? `  ${extra}` : ''}`
      if (live) {
        out.write('\r\x1b[2K' + line)
        pending = true
        if (done >= total) clear()
      } else if (done >= total || Date.now() - lastPlain > 2000) {
        lastPlain = Date.now()
        out.write(line + '\n')
      }
    },
    done: clear,
  }
}
