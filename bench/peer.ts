// A published EVM-native peer, for the bench's side-by-side row: Onchain-MNIST ("A fully on-chain neural
// network implementation for MNIST digit classification"), a 400-32-16-10 ReLU network on 20×20 images that
// keeps one int8 weight per storage slot (Solidity mappings) and runs its forward pass in plain Solidity.
// Its README, section "Results", reports over 1,000 test images: "Average gas per inference: 41,036,311"
// (min 41,035,361, max 41,037,219), measured with eth_call: over the EIP-7825 per-transaction cap of
// 16,777,216, so it cannot run as a transaction on mainnet. The figure is quoted, not re-measured here.
import type { Config } from '../src/config/types.ts'
import { randomRows, type Measurement } from './measure.ts'

export const PEER_400_32_16_10 = {
  name: '400-32-16-10 (peer\'s architecture)',
  sizes: [400, 32, 16, 10],
  /** Onchain-MNIST README, "Results": average gas per inference over 1,000 images (eth_call). */
  publishedGasPerInference: 41_036_311,
  source: 'Onchain-MNIST README, section "Results" (1,000 images, eth_call)',
  /** As the peer: int8 weights; its integer pixels 0–255 fit int16 inputs at 2^6. */
  precision: { weights: 'int8', inputs: 'int16', fraction: 6 } as Config['precision'],
}

const n = (x: number) => x.toLocaleString('en-US')

/** The bench's section: the peer's published figure beside ml2sc's measured one predict. */
export function peerSection(m: Measurement | undefined): string[] {
  if (!m) return []
  const p = PEER_400_32_16_10
  return [
    '## A published peer: 400-32-16-10',
    '',
    '| | weights | one predict | per row (batch) | fits one transaction (EIP-7825 cap) |',
    '|---|---|---|---|---|',
    `| Onchain-MNIST, published (${p.source}) | int8, one per storage slot | ${n(p.publishedGasPerInference)} | – | no |`,
    `| **ml2sc \`datacontract\`** (random weights, measured) | ${m.precision ?? '–'} | **${n(m.predictSingle)}** | ${n(m.gasPerRow)} | yes |`,
    `| ratio | | **${Math.round(p.publishedGasPerInference / m.predictSingle)}× less** | | |`,
    '',
    'ml2sc\'s row is this architecture with deterministic random weights (bench/measure.ts `randomModel`, seed 11)',
    'stored at int8 as the peer stores them, and random integer pixels 0–255 as its inputs (int16 at 2^6); gas depends on the shape and widths, not on the',
    'values. The peer\'s figure is quoted from its README, not re-measured.',
    '',
  ]
}

/** Rows of integer pixels 0–255, as the peer's inputs (its 20×20 images normalised to 0–255). */
export const pixelRows = (n: number, width: number) => randomRows(n, width, 13).map((r) => r.map((v) => Math.floor(v * 256)))
