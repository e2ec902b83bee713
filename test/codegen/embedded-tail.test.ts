// The admin library hashes a model's embedded weights (datacontract layout, not yet updated) from the last
// blobLength bytes of the model's own code, so the model carries no commitment constant. That holds only if
// solc puts the WEIGHTS constant at the very end of the runtime code: checked here on MLPs of every width
// and on CNNs, compiled exactly as `ml2sc compile` does. (A different place would make commitment() and
// verify disagree with the local commitment: the on-chain tests would fail too, but less plainly.)
import { describe, expect, test } from 'bun:test'
import { toHex } from 'viem'
import { embedsWeights, generateSolidity } from '../../src/codegen/generateSolidity.ts'
import { commitmentOf, encodeWeights } from '../../src/codegen/weights/weightBlob.ts'
import { compileSolidity } from '../../src/compile/compileSolidity.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import type { Plan } from '../../src/fixed/types.ts'
import { randomCnn } from '../helpers/randomCnn.ts'
import { randomMlp } from '../helpers/randomMlp.ts'

function expectTail(plan: Plan, name: string) {
  const blob = toHex(encodeWeights(plan)).slice(2)
  if (blob.length <= 64) {
    // solc would inline a constant this short as PUSH data: such a blob is never embedded (an upload)
    expect(embedsWeights(plan)).toBe(false)
    expect(embedsWeights(plan, { embedWeights: true })).toBe(false)
    return
  }
  expect(embedsWeights(plan)).toBe(true)
  const sol = generateSolidity(plan, { contractName: name, forward: false })
  const c = compileSolidity(sol, name)
  // no commitment constant in the runtime code (the constructor's ModelUpdated event names it): the library hashes the tail
  expect(sol).toContain('mstore(add(n, 32), 0)')
  expect(c.deployedBytecode).not.toContain(commitmentOf(encodeWeights(plan)).slice(2))
  expect(c.deployedBytecode.slice(2).endsWith(blob)).toBe(true)
  // and nowhere else: the code does not also carry a copy (or the commitment) of them
  expect(c.deployedBytecode.slice(2).indexOf(blob)).toBe((c.deployedBytecode.length - 2) - blob.length)
}

describe('embedded weights are the last bytes of the runtime code (what the admin library hashes)', () => {
  const cases: [number[], 1 | 2 | 3, 'sigmoid' | 'identity' | 'softmax'][] = [
    [[30, 4, 1], 2, 'sigmoid'],
    [[13, 7, 3], 1, 'softmax'],
    [[64, 32, 10], 2, 'identity'],
    [[5, 1], 3, 'sigmoid'],
  ]
  for (const [sizes, wb, last] of cases)
    test(`${sizes.join('-')} int${8 * wb} ${last}`, () => {
      expectTail(makePlan(randomMlp(sizes, sizes.length + wb, { last }), { fraction: 20, weightBytes: wb, inputBytes: 4 }), 'Tail')
    })
  // solc inlines a bytes constant of ≤ 32 bytes (never embedded): the blobs either side of that line
  for (const [k, bytes] of [[13, 31], [14, 33]] as const)
    test(`a ${bytes}-byte blob (${k}-1 int16)`, () => {
      const plan = makePlan(randomMlp([k, 1], k, { last: 'sigmoid' }), { fraction: 20, weightBytes: 2, inputBytes: 4 })
      expect(encodeWeights(plan).length).toBe(bytes)
      expectTail(plan, 'Edge')
    })
  test('random CNNs', () => {
    for (const seed of [3, 11, 27]) {
      let m
      for (let s = seed; !m; s++) {
        try {
          m = randomCnn(s).model
        } catch {}
      }
      expectTail(makePlan(m, { fraction: 20, weightBytes: 2, inputBytes: 4 }), 'TailCnn')
    }
  })
})
