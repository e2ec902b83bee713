import type { HeadSlice } from '../ir/heads.ts'
import type { Task } from '../ir/types.ts'
import { taskTally } from './taskTally.ts'

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
  const tally = taskTally(task)
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
    tally.add(headValue(task, on), headValue(task, ref), r.labels[index])
  }
  const metric = task === 'regression' ? { mae: tally.mae(), rmse: tally.rmse() } : { accuracy: tally.accuracy() }
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
    agreement: within ? tally.agreement() : null,
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
