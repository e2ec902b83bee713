/**
 * Terminal output: plain lines when piped or under CI, a live status line on a TTY. `--json` keeps stdout
 * for the one machine-readable object, so everything here goes to stderr.
 */
export type Logger = {
  info: (msg: string) => void
  step: (msg: string) => void
  detail: (msg: string) => void
  progress: (label: string, done: number, total: number, extra?: string) => void
  /** A spinner for a step of unknown length (compile, deploy): animated on a TTY, one plain line otherwise. */
  spinner: (label: string) => Spinner
  /** Run `fn` under a spinner: ticks while it runs, then `• label (1.2 s)`, or is cleared on failure. */
  task: <T>(label: string, fn: () => Promise<T> | T) => Promise<T>
  done: () => void
  verbose: boolean
}

export type Spinner = {
  /** Change the text after the label. */
  update: (text: string) => void
  /** Stop; on a TTY the line becomes `• label (elapsed)`, or `• <text>` if given. */
  succeed: (text?: string) => void
  /** Stop and clear the line (the caller reports the error). */
  fail: () => void
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`

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
    spinner: (label) => spinner(label),
    task: async (label, fn) => {
      const sp = spinner(label)
      // let the first frame draw before a synchronous step (solc-js compiles on this thread)
      if (live && !opts.quiet) await new Promise((r) => setTimeout(r, 0))
      try {
        const value = await fn()
        sp.succeed()
        return value
      } catch (e) {
        sp.fail()
        throw e
      }
    },
    done: clear,
  }

  function spinner(label: string): Spinner {
    const t0 = Date.now()
    let text = ''
    let frame = 0
    let stopped = false
    if (opts.quiet) return { update: () => {}, succeed: () => {}, fail: () => {} }
    if (!live) {
      write(`• ${label}`)
      return {
        update: () => {},
        succeed: (t) => {
          if (opts.verbose) write(`  ${t ?? 'done'} in ${seconds(Date.now() - t0)}`)
        },
        fail: () => {},
      }
    }
    const draw = () => {
      if (stopped) return
      out.write(`\r\x1b[2K${FRAMES[frame++ % FRAMES.length]} ${label}${text ? `  ${text}` : ''}  ${seconds(Date.now() - t0)}`)
      pending = true
    }
    const timer = setInterval(draw, 80)
    ;(timer as { unref?: () => void }).unref?.()
    draw()
    const stop = () => {
      stopped = true
      clearInterval(timer)
      clear()
    }
    return {
      update: (t) => {
        text = t
        draw()
      },
      succeed: (t) => {
        stop()
        write(`• ${t ?? label} · ${seconds(Date.now() - t0)}`)
      },
      fail: stop,
    }
  }
}
