import path from 'node:path'
import type { Config } from '../config/types.ts'

/**
 * What accuracy.reference, agreement and error.maxAbs are measured against: PyTorch's own outputs
 * (data.reference), or ml2sc's float forward pass of the architecture it read, which is only as right as
 * that architecture (from the model file itself, from model.source, or declared in model.layers: unverified).
 */
export type ReferenceSource = {
  source: 'pytorch-csv' | 'ml2sc-float'
  architecture: 'file' | 'model.source' | 'model.layers (unverified)'
  /** data.reference, relative to the config. */
  file?: string
  /** One line for summaries and reports. */
  description: string
}

export function referenceSourceOf(config: Config): ReferenceSource {
  const architecture = config.model.layers ? 'model.layers (unverified)' : config.model.source ? 'model.source' : 'file'
  if (config.data.reference) {
    const file = path.relative(config.dir, config.data.reference) || path.basename(config.data.reference)
    return { source: 'pytorch-csv', architecture, file, description: `PyTorch's outputs (data.reference: ${file})` }
  }
  const from = architecture === 'model.layers (unverified)' ? 'architecture from model.layers: unverified; add data.reference to check it' : `architecture from ${architecture === 'file' ? 'the model file' : 'model.source'}`
  return { source: 'ml2sc-float', architecture, description: `ml2sc float forward pass (${from})` }
}
