import type { Config } from '../config/types.ts'
import { ConfigError } from '../errors/base.ts'
import type { ModelIR } from '../ir/types.ts'

/**
 * `data.label` as a list names one column per output of a multi-output model, in output order: its length
 * must be the number of outputs the model returns (one for a one-output model).
 */
export function checkHeadLabels(config: Pick<Config, 'data'>, model: Pick<ModelIR, 'heads'>): void {
  const labels = config.data.labels
  if (!labels) return
  const heads = model.heads?.map((h) => h.name) ?? ['output']
  if (labels.length === heads.length) return
  throw new ConfigError(`data.label lists ${labels.length} column${labels.length === 1 ? '' : 's'} (${labels.join(', ')}) but the model has ${heads.length} output${heads.length === 1 ? '' : 's'} (${heads.join(', ')})`, {
    where: 'data.label',
    hint: heads.length === 1 ? 'name the one target column: data.label: <column>' : `name one column per output, in this order: [${heads.join(', ')}]`,
  })
}
