import type { DataGuess } from './guessData.ts'

/** The model's classes from its outputs: one output is a 0/1 (or regression) model, n > 1 outputs are n classes. */
const classCount = (outputs: number) => (outputs === 1 ? 2 : outputs)

/** Whether every sampled value of column `i` is a class index of a model with `outputs` outputs. */
export function holdsClasses(sample: string[][], i: number, outputs: number): boolean {
  const n = classCount(outputs)
  return sample.length > 0 && sample.every((r) => {
    const v = r[i]!.toLowerCase()
    const x = v === 'true' ? 1 : v === 'false' ? 0 : Number(v)
    return v !== '' && Number.isInteger(x) && x >= 0 && x < n
  })
}

/**
 * Once the model is known: a label column that is not found by name may sit anywhere, not only last. When
 * the last column does not fit (wrong feature count, or values that are not the model's classes), the one
 * column whose removal leaves the model's input size and whose values are class indices is the label.
 * Returns that column's name, or undefined when the guess stands (or nothing fits better).
 */
export function findLabelColumn(data: DataGuess, inputs: number, outputs: number): string | undefined {
  if (data.labelHow !== 'last') return undefined
  const last = data.header.length - 1
  if (data.features === inputs && (outputs === 1 || holdsClasses(data.sample, last, outputs))) return undefined
  const fits = data.header
    .map((name, i) => ({ name, i }))
    .filter(({ name, i }) => i !== last && holdsClasses(data.sample, i, outputs) && data.header.length - 1 - data.drop.filter((d) => d !== name).length === inputs)
  return fits.length === 1 ? fits[0]!.name : undefined
}

/** Why the label's values do not fit the model's outputs, or undefined when they do. */
export function labelMismatch(data: DataGuess, outputs: number): string | undefined {
  const i = data.header.indexOf(data.label)
  if (i < 0 || data.task === 'regression' || data.task === undefined) return undefined
  if (outputs === 1 && data.task === 'multiclass')
    return `label '${data.label}' holds more than two classes, but the model has one output (a 0/1 or regression model)`
  if (outputs > 1 && !holdsClasses(data.sample, i, outputs)) {
    const seen = [...new Set(data.sample.map((r) => r[i]!))].slice(0, 6)
    return `label '${data.label}' holds ${seen.join(', ')}${seen.length === 6 ? ', …' : ''}, but the model's ${outputs} outputs are classes 0…${outputs - 1}`
  }
  return undefined
}

/**
 * Text labels (`benign`/`malignant`): their distinct values, sorted (the order scikit-learn's LabelEncoder
 * gives them), when there are as many as the model has classes. The order of the model's outputs is not
 * in any file: the caller marks it for checking.
 */
export function textClasses(data: DataGuess, outputs: number): string[] | undefined {
  const i = data.header.indexOf(data.label)
  if (i < 0 || data.task !== undefined || data.sample.length === 0) return undefined
  const values = [...new Set(data.sample.map((r) => r[i]!))].filter((v) => v !== '').sort()
  return values.length === classCount(outputs) ? values : undefined
}
