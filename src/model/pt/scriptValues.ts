// The values the TorchScript forward() interpreter (./forwardInterpreter.ts) passes around.
import type { ArchStep } from '../../ir/types.ts'
import type { Node } from './moduleTree.ts'
import type { SeqVal } from '../sequenceValues.ts'
import type { BufferVal } from './bufferCalls.ts'
import type { PartVal } from './inputParts.ts'
import type { AttnVal } from './attentionCalls.ts'

export type Val =
  // `input`: the model's own input, whose columns may feed nn.Embedding (./inputParts.ts)
  | { k: 'tensor'; steps: ArchStep[]; input?: true }
  | PartVal
  | { k: 'self' }
  | { k: 'module'; node: Node }
  | { k: 'method'; node: Node; method: string }
  | { k: 'fn'; name: string }
  | { k: 'const'; v: unknown }
  // a GRU/LSTM's result (./recurrentCalls.ts): a sequence value, a tuple of them, a list holding them
  | { k: 'seq'; steps: ArchStep[]; s: SeqVal }
  | { k: 'tuple'; items: Val[] }
  | { k: 'list'; items: Val[] }
  | BufferVal
  // a MultiheadAttention / TransformerEncoderLayer's output sequence (./attentionCalls.ts)
  | AttnVal

/** A value computed from shapes or types (torch.size, int, annotate, …): known to be a constant, not which. */
export const OPAQUE = Symbol('shape arithmetic')
