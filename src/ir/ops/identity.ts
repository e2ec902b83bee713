import type { OpDef } from './types.ts'

/** No activation (a regression output, logits, nn.Identity): exact. */
export const identity: OpDef<{ kind: 'identity' }> = {
  kind: 'identity',
  shape: 'elementwise',
  gas: 20,
  float: (y) => y,
  fixed: (y) => y,
  bound: (p) => p,
  yul: { helpers: () => [], expr: (v) => v },
}
