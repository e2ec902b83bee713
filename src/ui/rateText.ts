/**
 * A rate for a progress line that never reads 0: "250 rows/s", "3.4 rows/s", or for a slow start
 * "12.5 s/row". `rows` ≥ 1 (nothing to show before the first row is done).
 */
export function rateText(rows: number, seconds: number, unit = 'row'): string {
  const perSecond = rows / Math.max(seconds, 1e-3)
  if (perSecond >= 10) return `${Math.round(perSecond).toLocaleString('en-US')} ${unit}s/s`
  if (perSecond >= 1) return `${perSecond.toFixed(1)} ${unit}s/s`
  return `${(seconds / Math.max(rows, 1)).toFixed(1)} s/${unit}`
}
