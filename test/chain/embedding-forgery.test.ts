// The gathered nn.Embedding columns are weights like any other: predict reads a category's folded weight
// column from the blob (the code's tail, the data contracts, or storage), so verify must prove those bytes.
// A forger deploys the genuine code with one folded column changed (only the rows of that category answer
// differently); verify must refuse it in every layout, and accept the same deployment made with the genuine
// bytes. An owner's update replaces the folded columns: predict then answers with the new ones.
import { beforeAll, describe, expect, test } from 'bun:test'
import type { Hex } from 'viem'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { ensureAdminLibrary } from '../../src/chain/ensureAdminLibrary.ts'
import { uploadWeights } from '../../src/chain/uploadWeights.ts'
import { verifyModel, type LocalModel } from '../../src/chain/verifyModel.ts'
import { STORAGE_BASE } from '../../src/codegen/admin/adminLibrary.ts'
import { chunkSizeFor, generateSolidity, type WeightLayout } from '../../src/codegen/generateSolidity.ts'
import { chunkSizes, commitmentOf, encodeWeights } from '../../src/codegen/weights/weightBlob.ts'
import { compileSolidity } from '../../src/compile/compileSolidity.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import { inputScaleOf, type Plan } from '../../src/fixed/types.ts'
import { expandedLayout } from '../../src/ir/categorical.ts'
import { deployCnn } from '../helpers/deployCnn.ts'
import { fileChain } from '../helpers/fileChain.ts'
import { addressTable, creationCode, dataContract, deployRaw, predictOf, stateWord, withImmutables, withTail } from '../helpers/forgery.ts'
import { randomEmbeddingModel } from '../helpers/randomEmbedding.ts'
import { A } from '../helpers/syntheticModels.ts'

let s: ChainSession
fileChain((c) => (s = c))
beforeAll(async () => void (await ensureAdminLibrary(s)), 240_000)

// columns 0 (5 categories) and 3 (7 categories) categorical, 3 numeric; 12 outputs: several lane groups
const plan: Plan = makePlan(randomEmbeddingModel({ inputs: 5, cats: [[0, 5], [3, 7]], sizes: [12, 3], acts: [A.relu, A.identity] }, 31), { fraction: 16, weightBytes: 2, inputBytes: 4 })
const S = inputScaleOf(plan)
/** Category 4 of column 3: its folded weight column in the expanded layout. */
const TARGET = expandedLayout(plan.inputSize, plan.categorical).at[3]! + 4
/** The plan with that one folded column negated (every output's weight): the same bounds, other answers. */
const forged: Plan = { ...plan, layers: plan.layers.map((l, i) => (i ? l : { ...l, weights: l.weights.map((r) => r.map((w, k) => (k === TARGET ? -w : w))) })) }
const row = (c0: number, c3: number) => [BigInt(c0) * S, S / 3n, -S / 2n, BigInt(c3) * S, S / 5n]
const hit = row(2, 4)
const miss = row(2, 1)

const SPECS: { name: string; layout: WeightLayout; embed: boolean; chunk?: number }[] = [
  { name: 'datacontract, weights embedded in the code', layout: 'datacontract', embed: true },
  { name: 'datacontract, several data contracts', layout: 'datacontract', embed: false, chunk: 128 },
  { name: 'storage', layout: 'storage', embed: false, chunk: 128 },
]

/** The genuine runtime code, deployed by a forger with the blob `blob` wherever predict reads its weights. */
async function deployWith(spec: (typeof SPECS)[number], compiled: ReturnType<typeof compileSolidity>, blob: Uint8Array): Promise<Hex> {
  let runtime = withImmutables(compiled.deployedBytecode, compiled.immutables, BigInt(s.account.address))
  const sizes = chunkSizes(blob.length, chunkSizeFor(spec.layout, spec.chunk))
  const writes: { slot: bigint; value: bigint }[] = []
  if (spec.embed) runtime = withTail(runtime, blob)
  else if (spec.layout === 'datacontract') {
    const chunks: Hex[] = []
    for (let i = 0, at = 0; i < sizes.length; at += sizes[i]!, i++) chunks.push(await dataContract(s, blob.subarray(at, at + sizes[i]!)))
    writes.push({ slot: 2n, value: stateWord({ address: await addressTable(s, chunks), version: 1, written: sizes.length, ready: 1 }) }, ...chunks.slice(1).map((a, i) => ({ slot: BigInt(3 + i), value: BigInt(a) })))
  } else {
    writes.push({ slot: 2n, value: stateWord({ version: 1, written: sizes.length, ready: 1 }) })
    const padded = new Uint8Array(32 * Math.ceil(blob.length / 32))
    padded.set(blob)
    for (let w = 0; w < padded.length / 32; w++) writes.push({ slot: BigInt(STORAGE_BASE + w), value: BigInt(`0x${Buffer.from(padded.subarray(32 * w, 32 * w + 32)).toString('hex')}`) })
  }
  return await deployRaw(s, creationCode(runtime, writes))
}

describe('a forged folded embedding column is caught by verify', () => {
  test('the forgery changes the answers of that category only (the gather reads those bytes)', () => {
    expect(simulate(forged, hit).join()).not.toBe(simulate(plan, hit).join())
    expect(simulate(forged, miss).join()).toBe(simulate(plan, miss).join())
    // and it is a small change of the blob: one weight column of the first layer
    const [a, b] = [encodeWeights(plan), encodeWeights(forged)]
    const changed = a.filter((x, i) => x !== b[i]).length
    expect(changed).toBeGreaterThan(0)
    expect(changed).toBeLessThanOrEqual(2 * plan.layers[0]!.nOut)
  })

  for (const spec of SPECS)
    test(`${spec.name}: genuine bytes verify; a changed folded column answers differently and is refused`, async () => {
      const compiled = compileSolidity(generateSolidity(plan, { contractName: 'E', layout: spec.layout, embedWeights: spec.embed, forward: false, ...(spec.chunk ? { chunkSize: spec.chunk } : {}) }), 'E')
      const blob = encodeWeights(plan)
      const local: LocalModel = { compiled, blob, sizes: chunkSizes(blob.length, chunkSizeFor(spec.layout, spec.chunk)), commitment: commitmentOf(blob), embedded: spec.embed, layout: spec.layout, file: 'model.json' }
      const genuine = await deployWith(spec, compiled, blob)
      expect((await verifyModel(s, genuine, local, { configLabel: 'test' })).problem).toBeUndefined()
      expect(await predictOf(s, genuine, compiled.abi, plan, hit)).toEqual(simulate(plan, hit))
      const fake = await deployWith(spec, compiled, encodeWeights(forged))
      // the forgery is live: predict gathers the forged column for category 4, and only for it
      expect(await predictOf(s, fake, compiled.abi, plan, hit)).toEqual(simulate(forged, hit))
      expect(await predictOf(s, fake, compiled.abi, plan, miss)).toEqual(simulate(plan, miss))
      const found = await verifyModel(s, fake, local, { configLabel: 'test' }).catch((e) => ({ problem: { check: String(e), line: String(e) } }))
      if (process.env.FUZZ_STATS) console.error(spec.name, JSON.stringify(found.problem))
      expect(['code', 'chunk', 'commitment']).toContain(found.problem?.check ?? 'verified')
    }, 240_000)

  test("an owner's update replaces the folded columns: predict answers with the new ones", async () => {
    const d = await deployCnn(s, plan, 'U', 'datacontract', false)
    expect([...(await d.predict(hit))]).toEqual(simulate(plan, hit))
    const blob = encodeWeights(forged)
    await uploadWeights(s, d.address, d.compiled.abi, blob, chunkSizes(blob.length))
    expect([...(await d.predict(hit))]).toEqual(simulate(forged, hit))
    expect([...(await d.predict(miss))]).toEqual(simulate(plan, miss))
  }, 240_000)
})
