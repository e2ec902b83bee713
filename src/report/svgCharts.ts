/**
 * Hand-written SVG charts for report.html: no library, no network. Every drawn data mark carries
 * class="mark"; each chart's <svg> carries an id and data-points = the number of marks it drew.
 */

export const esc = (s: unknown) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

/** 1,234,567 */
export const fmtInt = (x: number) => Math.round(x).toLocaleString('en-US')

/** 950, 9.5k, 262k, 1.2M */
export function fmtCompact(x: number): string {
  const a = Math.abs(x)
  if (a >= 1e9) return `${+(x / 1e9).toPrecision(3)}G`
  if (a >= 1e6) return `${+(x / 1e6).toPrecision(3)}M`
  if (a >= 1e3) return `${+(x / 1e3).toPrecision(3)}k`
  if (a === 0) return '0'
  if (a < 1e-3) return x.toExponential(0)
  return String(+x.toPrecision(3))
}

const r2 = (x: number) => Math.round(x * 100) / 100

type Scale = { map: (v: number) => number; ticks: number[]; label: (v: number) => string }

function niceStep(span: number, count: number): number {
  const raw = span / Math.max(count, 1)
  const p = 10 ** Math.floor(Math.log10(raw))
  const m = raw / p
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 2.5 ? 2.5 : m <= 5 ? 5 : 10) * p
}

export function linearScale(min: number, max: number, r0: number, r1: number, opts: { nice?: boolean; ticks?: number; label?: (v: number) => string } = {}): Scale {
  if (!(max > min)) {
    const pad = Math.abs(min) > 0 ? Math.abs(min) * 0.1 : 1
    min -= pad
    max += pad
  }
  const step = niceStep(max - min, opts.ticks ?? 5)
  if (opts.nice !== false) {
    min = Math.floor(min / step + 1e-9) * step
    max = Math.ceil(max / step - 1e-9) * step
  }
  const ticks: number[] = []
  for (let t = Math.ceil(min / step - 1e-9) * step; t <= max + step * 1e-9; t += step) ticks.push(Math.abs(t) < step * 1e-9 ? 0 : t)
  const map = (v: number) => r0 + ((v - min) / (max - min)) * (r1 - r0)
  return { map, ticks, label: opts.label ?? fmtCompact }
}

/** Log10 scale padded to whole decades; ticks at 1, 2, 5 × 10^k when the span is short. */
export function logScale(min: number, max: number, r0: number, r1: number, opts: { label?: (v: number) => string } = {}): Scale {
  // a point on a decade boundary would sit on the frame: keep ~0.1 decade of margin
  let lo = Math.floor(Math.log10(min) - 0.1)
  let hi = Math.ceil(Math.log10(max) + 0.1)
  if (hi <= lo) hi = lo + 1
  const ticks: number[] = []
  const mult = hi - lo <= 2 ? [1, 2, 5] : [1]
  for (let k = lo; k <= hi; k++) for (const m of mult) if (m * 10 ** k <= 10 ** hi) ticks.push(m * 10 ** k)
  const map = (v: number) => r0 + ((Math.log10(v) - lo) / (hi - lo)) * (r1 - r0)
  return { map, ticks, label: opts.label ?? fmtCompact }
}

export type Frame = { width: number; height: number; left: number; right: number; top: number; bottom: number }

const FONT = `font-family="ui-sans-serif, system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"`

function svgOpen(id: string, f: Frame, points: number, title: string): string {
  return `<svg id="${esc(id)}" class="chart" data-points="${points}" viewBox="0 0 ${f.width} ${f.height}" width="100%" role="img" aria-label="${esc(title)}" xmlns="http://www.w3.org/2000/svg" ${FONT} font-size="12">`
}

function noData(f: Frame, text: string): string {
  return `<text x="${f.width / 2}" y="${f.height / 2}" text-anchor="middle" fill="#94a3b8" font-size="14">${esc(text)}</text>`
}

function axes(f: Frame, x: Scale | undefined, y: Scale, xLabel: string, yLabel: string): string {
  const x0 = f.left
  const x1 = f.width - f.right
  const y0 = f.height - f.bottom
  const y1 = f.top
  const parts: string[] = []
  for (const t of y.ticks) {
    const py = r2(y.map(t))
    parts.push(`<line x1="${x0}" x2="${x1}" y1="${py}" y2="${py}" stroke="#e2e8f0"/>`)
    parts.push(`<text x="${x0 - 6}" y="${py + 4}" text-anchor="end" fill="#475569">${esc(y.label(t))}</text>`)
  }
  if (x)
    for (const t of x.ticks) {
      const px = r2(x.map(t))
      parts.push(`<line x1="${px}" x2="${px}" y1="${y0}" y2="${y1}" stroke="#f1f5f9"/>`)
      parts.push(`<text x="${px}" y="${y0 + 16}" text-anchor="middle" fill="#475569">${esc(x.label(t))}</text>`)
    }
  parts.push(`<line x1="${x0}" x2="${x1}" y1="${y0}" y2="${y0}" stroke="#64748b"/>`)
  parts.push(`<line x1="${x0}" x2="${x0}" y1="${y0}" y2="${y1}" stroke="#64748b"/>`)
  if (xLabel) parts.push(`<text x="${(x0 + x1) / 2}" y="${f.height - 6}" text-anchor="middle" fill="#334155" font-weight="600">${esc(xLabel)}</text>`)
  if (yLabel)
    parts.push(`<text transform="translate(14 ${(y0 + y1) / 2}) rotate(-90)" text-anchor="middle" fill="#334155" font-weight="600">${esc(yLabel)}</text>`)
  return parts.join('')
}

export type Bar = { label: string; value: number | null; note?: string; color: string; title?: string; /** Shown instead of a bar when value is 0 or null. */ empty?: string }

/** Horizontal bars, one per step; value labels at the bar ends. Bars with no value draw no mark. */
export function barChartH(id: string, title: string, bars: Bar[], opts: { width?: number; rowHeight?: number; left?: number; axisLabel?: string; log?: boolean } = {}): string {
  const rowH = opts.rowHeight ?? 44
  const f: Frame = { width: opts.width ?? 560, height: 0, left: opts.left ?? 150, right: 110, top: 10, bottom: 40 }
  f.height = f.top + f.bottom + rowH * Math.max(bars.length, 1)
  const drawn = bars.filter((b) => b.value !== null && b.value > 0)
  const max = Math.max(...drawn.map((b) => b.value!), 1)
  const x = opts.log
    ? logScale(Math.min(...drawn.map((b) => b.value!), max) / 2, max, f.left, f.width - f.right)
    : linearScale(0, max, f.left, f.width - f.right, { ticks: 4 })
  const x0 = opts.log ? f.left : x.map(0)
  const parts = [svgOpen(id, f, drawn.length, title)]
  parts.push(axesX(f, x, opts.axisLabel ?? ''))
  bars.forEach((b, i) => {
    const cy = f.top + rowH * i + rowH / 2
    parts.push(`<text x="${f.left - 8}" y="${cy - (b.note ? 2 : -4)}" text-anchor="end" fill="#0f172a" font-weight="600">${esc(b.label)}</text>`)
    if (b.note) parts.push(`<text x="${f.left - 8}" y="${cy + 13}" text-anchor="end" fill="#64748b" font-size="11">${esc(b.note)}</text>`)
    if (b.value === null || !(b.value > 0)) {
      parts.push(`<text x="${f.left + 6}" y="${cy + 4}" fill="#94a3b8">${esc(b.empty ?? (b.value === 0 ? '0' : 'not measured'))}</text>`)
      return
    }
    const w = Math.max(r2(x.map(b.value) - x0), 1)
    parts.push(`<rect class="mark" x="${x0}" y="${cy - rowH * 0.3}" width="${w}" height="${r2(rowH * 0.6)}" rx="3" fill="${b.color}"><title>${esc(b.title ?? `${b.label}: ${fmtInt(b.value)} gas`)}</title></rect>`)
    parts.push(`<text x="${x0 + w + 6}" y="${cy + 4}" fill="#0f172a">${esc(fmtInt(b.value))}</text>`)
  })
  parts.push('</svg>')
  return parts.join('')
}

function axesX(f: Frame, x: Scale, label: string): string {
  const y0 = f.height - f.bottom
  const parts: string[] = []
  for (const t of x.ticks) {
    const px = r2(x.map(t))
    parts.push(`<line x1="${px}" x2="${px}" y1="${f.top}" y2="${y0}" stroke="#e2e8f0"/>`)
    parts.push(`<text x="${px}" y="${y0 + 16}" text-anchor="middle" fill="#475569">${esc(x.label(t))}</text>`)
  }
  parts.push(`<line x1="${f.left}" x2="${f.left}" y1="${f.top}" y2="${y0}" stroke="#64748b"/>`)
  if (label) parts.push(`<text x="${(f.left + f.width - f.right) / 2}" y="${f.height - 4}" text-anchor="middle" fill="#334155" font-weight="600">${esc(label)}</text>`)
  return parts.join('')
}

/** Vertical bars over categories (the error histogram). Empty categories draw no mark. */
export function barChartV(id: string, title: string, cats: { label: string; value: number; title?: string }[], opts: { width?: number; height?: number; xLabel?: string; yLabel?: string; color?: string } = {}): string {
  const f: Frame = { width: opts.width ?? 560, height: opts.height ?? 300, left: 56, right: 16, top: 18, bottom: 62 }
  const drawn = cats.filter((c) => c.value > 0)
  const parts = [svgOpen(id, f, drawn.length, title)]
  if (!cats.length) return parts.join('') + noData(f, 'no data') + '</svg>'
  const y = linearScale(0, Math.max(...cats.map((c) => c.value), 1), f.height - f.bottom, f.top, { ticks: 4, label: (v) => (Number.isInteger(v) ? String(v) : '') })
  parts.push(axes(f, undefined, y, opts.xLabel ?? '', opts.yLabel ?? ''))
  const slot = (f.width - f.left - f.right) / cats.length
  cats.forEach((c, i) => {
    const cx = f.left + slot * i + slot / 2
    const bw = Math.max(slot * 0.72, 2)
    parts.push(`<text x="${r2(cx)}" y="${f.height - f.bottom + 15}" text-anchor="middle" fill="#475569" font-size="10.5">${esc(c.label)}</text>`)
    if (c.value > 0) {
      const top = y.map(c.value)
      parts.push(`<rect class="mark" x="${r2(cx - bw / 2)}" y="${r2(top)}" width="${r2(bw)}" height="${r2(y.map(0) - top)}" rx="2" fill="${opts.color ?? '#0d9488'}"><title>${esc(c.title ?? `${c.label}: ${c.value}`)}</title></rect>`)
      parts.push(`<text x="${r2(cx)}" y="${r2(top - 4)}" text-anchor="middle" fill="#0f172a" font-size="11">${c.value}</text>`)
    }
  })
  parts.push('</svg>')
  return parts.join('')
}

export type Shape = 'circle' | 'diamond' | 'square' | 'triangle' | 'ring'
export type Series = { name: string; color: string; shape?: Shape; size?: number; points: { x: number; y: number; title: string; label?: string }[] }

function markAt(shape: Shape, x: number, y: number, s: number, color: string, title: string): string {
  const t = `<title>${esc(title)}</title>`
  const X = r2(x)
  const Y = r2(y)
  switch (shape) {
    case 'diamond':
      return `<path class="mark" d="M${X} ${r2(Y - s * 1.3)}L${r2(X + s * 1.3)} ${Y}L${X} ${r2(Y + s * 1.3)}L${r2(X - s * 1.3)} ${Y}Z" fill="${color}" stroke="#fff" stroke-width="1">${t}</path>`
    case 'square':
      return `<rect class="mark" x="${r2(X - s)}" y="${r2(Y - s)}" width="${2 * s}" height="${2 * s}" fill="${color}" stroke="#fff" stroke-width="1">${t}</rect>`
    case 'triangle':
      return `<path class="mark" d="M${X} ${r2(Y - s * 1.25)}L${r2(X + s * 1.2)} ${r2(Y + s * 0.9)}L${r2(X - s * 1.2)} ${r2(Y + s * 0.9)}Z" fill="${color}" stroke="#fff" stroke-width="1">${t}</path>`
    case 'ring':
      return `<circle class="mark" cx="${X}" cy="${Y}" r="${s}" fill="none" stroke="${color}" stroke-width="1.6">${t}</circle>`
    default:
      return `<circle class="mark" cx="${X}" cy="${Y}" r="${s}" fill="${color}" fill-opacity="0.85" stroke="#fff" stroke-width="1">${t}</circle>`
  }
}

export type ScatterOpts = {
  width?: number
  height?: number
  xLabel: string
  yLabel: string
  xLog?: boolean
  yLog?: boolean
  /** Fixed domains (otherwise from the data). */
  xDomain?: [number, number]
  yDomain?: [number, number]
  /** y = x reference line (on-chain = reference). */
  diagonal?: boolean
  /** Horizontal reference line, e.g. a decision threshold. */
  hline?: { y: number; label: string }
  xTickLabel?: (v: number) => string
  yTickLabel?: (v: number) => string
}

/** Scatter plot with a legend; one mark per point, a <title> tooltip on each. */
export function scatterChart(id: string, title: string, series: Series[], o: ScatterOpts): string {
  const width = o.width ?? 560
  // legend: items flow left to right and wrap (text width estimated at 6.8 px per character)
  const legend: { s: Series; x: number; row: number }[] = []
  {
    let lx = 64
    let row = 0
    for (const s of series) {
      const w = 16 + 6.8 * `${s.name} (${s.points.length})`.length + 18
      if (lx + w > width - 10 && lx > 64) {
        lx = 64
        row++
      }
      legend.push({ s, x: lx, row })
      lx += w
    }
  }
  const legendRows = legend.length ? legend[legend.length - 1]!.row + 1 : 0
  const f: Frame = { width, height: (o.height ?? 320) + 18 * Math.max(legendRows - 1, 0), left: 64, right: 20, top: 14 + 18 * legendRows, bottom: 46 }
  const pts = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && (!o.xLog || p.x > 0) && (!o.yLog || p.y > 0))
  const parts = [svgOpen(id, f, pts.length, title)]
  if (!pts.length) return parts.join('') + noData(f, 'no measured points') + '</svg>'
  const xs = pts.map((p) => p.x)
  const ys = pts.map((p) => p.y)
  let [xmin, xmax] = o.xDomain ?? [Math.min(...xs), Math.max(...xs)]
  let [ymin, ymax] = o.yDomain ?? [Math.min(...ys), Math.max(...ys)]
  if (o.diagonal && !o.xDomain && !o.yDomain) {
    xmin = ymin = Math.min(xmin, ymin)
    xmax = ymax = Math.max(xmax, ymax)
  }
  if (o.hline && !o.yDomain) {
    ymin = Math.min(ymin, o.hline.y)
    ymax = Math.max(ymax, o.hline.y)
  }
  const x0 = f.left
  const x1 = f.width - f.right
  const y0 = f.height - f.bottom
  const y1 = f.top
  // linear axes from the data get a small margin (no marks on the frame), not a rounded-out domain
  const pad = (a: number, b: number): [number, number] => {
    const m = b > a ? (b - a) * 0.04 : Math.abs(a) * 0.1 || 1
    return [a - m, b + m]
  }
  if (!o.xLog && !o.xDomain) [xmin, xmax] = pad(xmin, xmax)
  if (!o.yLog && !o.yDomain) [ymin, ymax] = pad(ymin, ymax)
  const x = o.xLog ? logScale(xmin, xmax, x0, x1, { label: o.xTickLabel }) : linearScale(xmin, xmax, x0, x1, { label: o.xTickLabel, nice: false, ticks: Math.max(4, Math.round((x1 - x0) / 110)) })
  const y = o.yLog ? logScale(ymin, ymax, y0, y1, { label: o.yTickLabel }) : linearScale(ymin, ymax, y0, y1, { label: o.yTickLabel, nice: false })
  parts.push(axes(f, x, y, o.xLabel, o.yLabel))
  parts.push(`<clipPath id="${esc(id)}-clip"><rect x="${x0}" y="${y1}" width="${x1 - x0}" height="${y0 - y1}"/></clipPath>`)
  if (o.diagonal) {
    const lo = Math.max(xmin, ymin)
    const hi = Math.min(xmax, ymax)
    parts.push(`<line x1="${r2(x.map(lo))}" y1="${r2(y.map(lo))}" x2="${r2(x.map(hi))}" y2="${r2(y.map(hi))}" stroke="#94a3b8" stroke-dasharray="5 4" clip-path="url(#${esc(id)}-clip)"/>`)
    const at = lo + (hi - lo) * 0.1
    parts.push(`<text x="${r2(x.map(at)) + 10}" y="${r2(y.map(at)) + 16}" fill="#64748b" font-size="11">on chain = reference</text>`)
  }
  if (o.hline) {
    const py = r2(y.map(o.hline.y))
    parts.push(`<line x1="${x0}" x2="${x1}" y1="${py}" y2="${py}" stroke="#94a3b8" stroke-dasharray="5 4"/>`)
    parts.push(`<text x="${x1 - 4}" y="${py - 5}" text-anchor="end" fill="#64748b" font-size="11">${esc(o.hline.label)}</text>`)
  }
  parts.push(`<g clip-path="url(#${esc(id)}-clip)">`)
  for (const s of series)
    for (const p of s.points) {
      if (!Number.isFinite(p.x) || !Number.isFinite(p.y) || (o.xLog && p.x <= 0) || (o.yLog && p.y <= 0)) continue
      parts.push(markAt(s.shape ?? 'circle', x.map(p.x), y.map(p.y), s.size ?? 4, s.color, p.title))
    }
  parts.push('</g>')
  for (const s of series)
    for (const p of s.points)
      if (p.label && Number.isFinite(p.x) && Number.isFinite(p.y))
      {
        const px = r2(x.map(p.x))
        const left = px > x0 + (x1 - x0) * 0.65
        parts.push(`<text x="${left ? px - 12 : px + 12}" y="${r2(y.map(p.y)) + 4}" text-anchor="${left ? 'end' : 'start'}" fill="#0f172a" font-size="11" font-weight="600" stroke="#fff" stroke-width="3" paint-order="stroke">${esc(p.label)}</text>`)
      }
  // legend (swatches are not marks)
  for (const { s, x: lx, row } of legend) {
    const ly = 12 + 18 * row
    const sw = markAt(s.shape ?? 'circle', lx + 6, ly, 4.5, s.color, s.name).replace('class="mark" ', '')
    parts.push(`${sw}<text x="${lx + 16}" y="${ly + 4}" fill="#334155">${esc(s.name)} (${s.points.length})</text>`)
  }
  parts.push('</svg>')
  return parts.join('')
}
