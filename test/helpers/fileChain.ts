// One embedded anvil per test file, with mainnet's limits: the shared setup of the on-chain tests.
import { afterAll, beforeAll } from 'bun:test'
import { connectChain, type ChainSession } from '../../src/chain/connectChain.ts'

/** Mainnet's per-transaction gas cap (EIP-7825, 2^24). */
export const TX_GAS_CAP = 16_777_216

/**
 * Open one embedded anvil (prague, the per-transaction gas cap enforced, 30M blocks) before the file's
 * first test and close it after its last; `use` receives the session.
 */
export function fileChain(use: (s: ChainSession) => void): void {
  let s: ChainSession | undefined
  beforeAll(async () => {
    s = await connectChain({ hardfork: 'prague', txGasCap: TX_GAS_CAP, blockGasLimit: 30_000_000 })
    use(s)
  })
  afterAll(async () => await s?.close())
}
