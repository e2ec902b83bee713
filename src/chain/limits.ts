/**
 * Limits of the chains ml2sc sends to, in one leaf module that the gas model, the spend guard and the
 * evaluation stage all read (none of them imports another for it).
 */

/** Largest calldata per evaluation or predict transaction (nodes refuse transactions over ~128 KB). */
export const MAX_BATCH_CALLDATA = 96_000

/** EIP-7825: the per-transaction gas cap that mainnet enforces (2^24). */
export const TX_GAS_CAP = 16_777_216
