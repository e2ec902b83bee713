import type { Task } from '../ir/types.ts'

const round = (x: number, d = 6) => Number(x.toFixed(d))

/**
 * The per-row tally behind report.json's accuracy figures, for the whole model (buildReport) and for each
 * head of a multi-output one (headMetrics): `add` one counted row's on-chain value, reference value and
 * label (undefined: unlabelled). A regression output agrees within 1e-3 and is judged by MAE and RMSE; a
 * class output agrees when equal and is judged by accuracy.
 */
export function taskTally(task: Task) {
  const t = { evaluated: 0, agree: 0, labelled: 0, hitOn: 0, hitRef: 0, absOn: 0, absRef: 0, sqOn: 0, sqRef: 0 }
  const share = (k: number, n: number) => (n ? round(k / n) : null)
  const mean = (x: number) => (t.labelled ? round(x / t.labelled, 8) : null)
  const rootMean = (x: number) => (t.labelled ? round(Math.sqrt(x / t.labelled), 8) : null)
  return {
    add(on: number, ref: number, label: number | undefined) {
      t.evaluated++
      if (task === 'regression') {
        if (Math.abs(on - ref) <= 1e-3) t.agree++
        if (label === undefined) return
        t.labelled++
        t.absOn += Math.abs(on - label)
        t.absRef += Math.abs(ref - label)
        t.sqOn += (on - label) ** 2
        t.sqRef += (ref - label) ** 2
      } else {
        if (on === ref) t.agree++
        if (label === undefined) return
        t.labelled++
        if (on === label) t.hitOn++
        if (ref === label) t.hitRef++
      }
    },
    /** rows added */
    get evaluated() {
      return t.evaluated
    },
    /** share of added rows whose on-chain value agrees with the reference's (null: none added) */
    agreement: () => share(t.agree, t.evaluated),
    /** class outputs: share of labelled rows predicted right, on chain and by the reference */
    accuracy: () => ({ onchain: share(t.hitOn, t.labelled), reference: share(t.hitRef, t.labelled) }),
    mae: () => ({ onchain: mean(t.absOn), reference: mean(t.absRef) }),
    rmse: () => ({ onchain: rootMean(t.sqOn), reference: rootMean(t.sqRef) }),
  }
}
