import type { Task } from '../ir/types.ts'

/**
 * Warnings about a classifier's labels that point at a wrong config rather than a weak model: labels that
 * are not class indices 0…n−1, or on-chain accuracy at or below chance (1/n).
 */
export function labelWarnings(task: Task, classes: number, labels: (number | undefined)[], accuracy: number | null, opts: { classNames?: string[] } = {}): string[] {
  if (task === 'regression') return []
  const warnings: string[] = []
  const bad = [...new Set(labels.filter((l): l is number => l !== undefined && !(Number.isInteger(l) && l >= 0 && l < classes)))]
  if (bad.length)
    warnings.push(
      `labels outside 0…${classes - 1} (${bad.slice(0, 5).join(', ')}${bad.length > 5 ? ', …' : ''}): the model has ${classes} classes; ` +
        `likely data.label names the wrong column, the labels count from 1, or they are text: list the class names in output order in data.classes`,
    )
  else if (accuracy !== null && labels.some((l) => l !== undefined) && accuracy <= 1 / classes)
    warnings.push(
      `accuracy ${(accuracy * 100).toFixed(1)}% is at or below chance (${((1 / classes) * 100).toFixed(1)}% for ${classes} classes): ` +
        `likely data.label is not the target, the classes are in another order than the outputs${opts.classNames ? ' (data.classes)' : ''}, or the architecture is wrong (check it with data.reference)`,
    )
  return warnings
}
