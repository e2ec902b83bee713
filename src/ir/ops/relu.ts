import { each, type OpDef } from './types.ts'

export function reluFixed(y: bigint): bigint {
  return y < 0n ? 0n : y
}

/** ReLU: exact; one SGT and one MUL on chain. */
export const relu: OpDef<{ kind: 'relu' }> = {
  kind: 'relu',
  shape: 'elementwise',
  gas: 20,
  float: each((v: number) => (v < 0 ? 0 : v)),
  fixed: each(reluFixed),
  bound: (p) => p,
  yul: { helpers: () => [], expr: (v) => `mul(${v}, sgt(${v}, 0))` },
}
