import type { HeadSlice } from '../ir/heads.ts'
import type { Task } from '../ir/types.ts'

const round = (x: number, d = 6) => Number(x.toFixed(d))

/** What one head's outputs mean: argmax for a class head, > 0.5 for one sigmoid output, else the value. */
export function headValue(task: Task, y: number[]): number {
  if (task === 'multiclass') return y.indexOf(Math.max(...y))
  if (task === 'binary') return y[0]! > 0.5 ? 1 : 0
  return y[0]!
}

/** One row as the report sees it: on-chain outputs in output units (undefined: not answered), the reference, each head's label. */
export type HeadRow = { row: number; outputs?: number[]; reference: number[]; labels: (number | undefined)[]; counted: boolean }

/**
 * report.json `heads[i]`: one output of a multi-output model, judged with its own metric against its own
 * label column (data.label as a list) and against the reference (PyTorch's outputs when data.reference is
 * given): a class head by accuracy and agreement of the argmax, a value head by MAE, RMSE and agreement
 * within 1e-3. `within`: every answered row's outputs of this head within their tolerance (`tolerances`,
 * the fidelity gate's): a head beyond it makes the run fail, and its agreement is then not reported (null).
 */
export function headReport(head: HeadSlice, index: number, task: Task, label: string | null, rows: HeadRow[], tolerances: number[]) {
  const part = (y: number[]) => y.slice(head.offset, head.offset + head.size)
  let agree = 0
  let evaluated = 0
  let labelled = 0
  let hitOn = 0
  let hitRef = 0
  let absOn = 0
  let absRef = 0
  let sqOn = 0
  let sqRef = 0
  let maxAbs = 0
  let within = true
  for (const r of rows) {
    if (!r.outputs) continue
    const on = part(r.outputs)
    const ref = part(r.reference)
    on.forEach((v, j) => {
      const d = Math.abs(v - ref[j]!)
      if (!(d <= tolerances[head.offset + j]!)) within = false
      if (r.counted) maxAbs = Math.max(maxAbs, d)
    })
    if (!r.counted) continue
    evaluated++
    const a = headValue(task, on)
    const b = headValue(task, ref)
    const y = r.labels[index]
    if (task === 'regression') {
      if (Math.abs(a - b) <= 1e-3) agree++
      if (y !== undefined) {
        labelled++
        absOn += Math.abs(a - y)
        absRef += Math.abs(b - y)
        sqOn += (a - y) ** 2
        sqRef += (b - y) ** 2
      }
    } else {
      if (a === b) agree++
      if (y !== undefined) {
        labelled++
        if (a === y) hitOn++
        if (b === y) hitRef++
      }
    }
  }
  const share = (k: number, n: number) => (n ? round(k / n) : null)
  const metric =
    task === 'regression'
      ? {
          mae: { onchain: labelled ? round(absOn / labelled, 8) : null, reference: labelled ? round(absRef / labelled, 8) : null },
          rmse: { onchain: labelled ? round(Math.sqrt(sqOn / labelled), 8) : null, reference: labelled ? round(Math.sqrt(sqRef / labelled), 8) : null },
        }
      : { accuracy: { onchain: share(hitOn, labelled), reference: share(hitRef, labelled) } }
  return {
    name: head.name,
    task,
    /** where this head's outputs sit in predict's int256[] (and report rows' raw) */
    offset: head.offset,
    size: head.size,
    /** its label column (data.label as a list), or null */
    label,
    ...metric,
    /** null when any of this head's outputs is beyond its tolerance: no agreement is claimed then */
    agreement: within ? share(agree, evaluated) : null,
    maxAbsError: round(maxAbs, 9),
    within,
  }
}

export type HeadReport = ReturnType<typeof headReport>

/** One prediction row's per-head values (predictions.csv's `<head>_label`, `<head>_onchain`, `<head>_reference`). */
export function headPredictions(heads: { slice: HeadSlice; task: Task }[], r: HeadRow): Record<string, { label: number | string; onchain: number | string; reference: number }> {
  const out: Record<string, { label: number | string; onchain: number | string; reference: number }> = {}
  heads.forEach(({ slice, task }, i) => {
    const part = (y: number[]) => y.slice(slice.offset, slice.offset + slice.size)
    const fix = (v: number) => (task === 'regression' ? round(v, 8) : v)
    out[slice.name] = { label: r.labels[i] ?? '', onchain: r.outputs ? fix(headValue(task, part(r.outputs))) : '', reference: fix(headValue(task, part(r.reference))) }
  })
  return out
}
