import { ModelError } from '../../errors/base.ts'
import type { ArchStep } from '../../ir/types.ts'
import { text, type Ctx, type Node } from './expressions.ts'

export const RECURRENT_CLASSES = ['GRU', 'LSTM', 'RNN']

const flag = (n: Node | undefined): boolean | undefined => (n?.k === 'name' && (n.id === 'True' || n.id === 'False') ? n.id === 'True' : n?.k === 'num' ? n.v !== 0 : undefined)

/**
 * nn.GRU / nn.LSTM(input_size, hidden_size, num_layers=1 or 2, bias=True or False, batch_first, dropout (nothing
 * at inference), bidirectional): one step (the `_reverse` tensors say the direction count); what ml2sc cannot
 * run (3+ layers, proj_size, nn.RNN) is refused here with the line.
 */
export function recurrentModuleSteps(ctx: Ctx, cls: string, node: Extract<Node, { k: 'call' }>, prefix: string): ArchStep[] {
  const at = `${ctx.file}:${node.line}`
  const refuse = (what: string, hint: string): never => {
    throw new ModelError(`${what} at ${at} (${text(ctx, node)}) is not supported on chain yet`, { where: ctx.where, hint })
  }
  if (cls === 'RNN') refuse('nn.RNN', 'use nn.GRU or nn.LSTM')
  const arg = (name: string, i: number) => node.kwargs.get(name) ?? node.args[i]
  const layers = arg('num_layers', 2)
  if (layers && !(layers.k === 'num' && (layers.v === 1 || layers.v === 2))) refuse(`a ${cls} with num_layers=${text(ctx, layers)}`, 'use num_layers=1 or 2')
  const proj = node.kwargs.get('proj_size')
  if (proj && !(proj.k === 'num' && proj.v === 0)) refuse(`an LSTM with proj_size`, 'leave proj_size at 0')
  const hidden = arg('hidden_size', 1)
  return [{ op: cls === 'GRU' ? 'gru' : 'lstm', name: prefix, ...(hidden?.k === 'num' ? { hidden: hidden.v } : {}), batchFirst: flag(arg('batch_first', 4)) === true }]
}
