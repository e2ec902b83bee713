// uploadGasFrom: the upload's gas from every chunk on, with each chunk encoded and the blob hashed once (an
// upload of n chunks asked the figure from each chunk: n passes over the blob). It must give exactly
// estimateUploadGas's figure for every start, layout and rewrite, since gas limits and the refusal of a
// chunk over the cap (checkChunksFit) are read from it.
import { expect, test } from 'bun:test'
import { parseAbi } from 'viem'
import { estimateUploadGas, uploadGasFrom } from '../../src/chain/uploadGas.ts'
import { chunkSizes } from '../../src/codegen/weights/weightBlob.ts'
import { rng } from '../helpers/rng.ts'

const abi = parseAbi(['function writeChunk(uint256 index, bytes data, bytes32 commitment) payable'])

test('uploadGasFrom(k) is estimateUploadGas from chunk k, for every k, layout and rewrite', () => {
  const rand = rng(5)
  // zero and non-zero bytes (calldata gas differs), a short last chunk
  const blob = Uint8Array.from({ length: 3_000 }, () => (rand() < 0.3 ? 0 : Math.floor(rand() * 256)))
  for (const sizes of [chunkSizes(blob.length, 256), chunkSizes(blob.length, 4096), [blob.length]]) {
    for (const opts of [{}, { layout: 'storage' }, { layout: 'storage', rewrite: true }, { rewrite: true }]) {
      const from = uploadGasFrom(blob, sizes, abi, opts)
      for (let k = 0; k <= sizes.length + 1; k++) expect(from(k)).toBe(k >= sizes.length ? 0n : estimateUploadGas(blob, sizes, abi, { ...opts, from: k }).gas)
      // and the per-chunk figures are positive: the gas of chunk k alone
      for (let k = 0; k < sizes.length; k++) expect(from(k) - from(k + 1)).toBeGreaterThan(21_000n)
    }
  }
})
