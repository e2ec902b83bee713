import type { ArchStep } from '../../ir/types.ts'

/** A registered buffer (or parameter) of the module whose forward() is read: its state_dict key. */
export type BufferVal = { k: 'buffer'; key: string }

const HOW: Record<string, 'sub' | 'div' | 'mul'> = { 'torch.sub': 'sub', 'torch.div': 'div', 'torch.mul': 'mul' }

/**
 * `torch.sub(x, mean)`, `torch.div(x, std)`, `torch.mul(x, scale)` (or `torch.mul(scale, x)`) of a tensor value and a
 * buffer, as TorchScript writes `(x - self.mean) / self.std`: an affine step on the buffer's key, folded into the
 * Linear next to it like the module-source reader's. undefined for any other call; `torch.sub` with an alpha ≠ 1,
 * or a `torch.div` with a rounding mode, is left to the caller's refusal.
 */
export function bufferCall(name: string, args: ({ k: string } | BufferVal | { k: 'tensor'; steps: ArchStep[] })[]): { k: 'tensor'; steps: ArchStep[] } | undefined {
  const how = HOW[name]
  if (!how || args.length !== 2) return undefined
  const [a, b] = args
  const swap = how === 'mul' && a?.k === 'buffer' && b?.k === 'tensor'
  const [x, buf] = swap ? [b, a] : [a, b]
  if (x?.k !== 'tensor' || buf?.k !== 'buffer') return undefined
  return { k: 'tensor', steps: [...(x as { steps: ArchStep[] }).steps, { op: 'affine', name: (buf as BufferVal).key, how }] }
}
