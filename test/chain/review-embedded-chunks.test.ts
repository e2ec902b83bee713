// Adversarial review after issue 18: the one layout the forgery fuzz does not draw, a model with embedded
// weights uploaded in several chunks (batch.upload smaller than the blob). A forger's creation code returns
// the genuine runtime code (or another model's weights at its tail), carries wei or not, and writes the
// state word: the genuine address table, a table mixing in another model's chunks, a table one entry long,
// or nothing. Whenever verify passes, predict must equal the bit-exact simulator; the forgeries that would
// answer otherwise must be refused.
import { beforeAll, describe, expect, test } from 'bun:test'
import type { Hex } from 'viem'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { ensureAdminLibrary } from '../../src/chain/ensureAdminLibrary.ts'
import { verifyModel, type LocalModel } from '../../src/chain/verifyModel.ts'
import { stateMask } from '../../src/codegen/admin/adminLibrary.ts'
import { embedsWeights, generateSolidity } from '../../src/codegen/generateSolidity.ts'
import { chunkSizes, commitmentOf, encodeWeights } from '../../src/codegen/weights/weightBlob.ts'
import { compileSolidity, type CompiledContract } from '../../src/compile/compileSolidity.ts'
import { encodeRow } from '../../src/fixed/encodeRows.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import { fileChain } from '../helpers/fileChain.ts'
import { addressTable, creationCode, dataContract, deployRaw, negated, predictOf, stateWord, withImmutables, withTail } from '../helpers/forgery.ts'
import { randomMlp } from '../helpers/randomMlp.ts'
import { rng } from '../helpers/rng.ts'

let s: ChainSession
fileChain((c) => (s = c))

const CHUNK = 64
const plan = makePlan(randomMlp([8, 12, 2], 77), { fraction: 16, weightBytes: 2, inputBytes: 4 })
const blob = encodeWeights(plan)
const other = encodeWeights(negated(plan))
const sizes = chunkSizes(blob.length, CHUNK)
let compiled: CompiledContract
let local: LocalModel
const genuine: Hex[] = []
const forged: Hex[] = []

beforeAll(async () => {
  await ensureAdminLibrary(s)
  expect(embedsWeights(plan)).toBe(true)
  expect(sizes.length).toBeGreaterThan(2)
  compiled = compileSolidity(generateSolidity(plan, { contractName: 'M', layout: 'datacontract', chunkSize: CHUNK }), 'M')
  local = { compiled, blob, sizes, commitment: commitmentOf(blob), embedded: true, layout: 'datacontract', file: 'model.json' }
  for (let i = 0, at = 0; i < sizes.length; at += sizes[i]!, i++) {
    genuine.push(await dataContract(s, blob.subarray(at, at + sizes[i]!)))
    forged.push(await dataContract(s, other.subarray(at, at + sizes[i]!)))
  }
}, 240_000)

describe('review: embedded weights in several chunks, forged state', () => {
  test('verify passes only where predict equals the simulator', async () => {
    const r = rng(4242)
    const rows = Array.from({ length: 4 }, () => (encodeRow(plan, Array.from({ length: 8 }, () => r() * 2 - 1)) as { values: bigint[] }).values)
    const want = rows.map((row) => simulate(plan, row))
    const n = sizes.length
    const mask = stateMask({ kind: 0, embedded: true, chunks: n })
    const runtime = withImmutables(compiled.deployedBytecode, compiled.immutables, BigInt(s.account.address))
    const otherTail = withTail(runtime, other)
    const mixed = genuine.map((a, i) => (i === n - 1 ? forged[i]! : a))
    const ready = async (entries: Hex[]) => stateWord({ address: await addressTable(s, entries), version: 2, tag: 7, written: n, ready: 1 }) ^ mask
    const cases: { name: string; code: Hex; slot2?: bigint; wei: bigint; passes: boolean }[] = [
      { name: 'genuine, never updated', code: runtime, wei: 0n, passes: true },
      { name: 'genuine, never updated, wei forced in', code: runtime, wei: 5n, passes: true },
      { name: 'another tail, never updated', code: otherTail, wei: 0n, passes: false },
      { name: 'another tail, wei, no state word', code: otherTail, wei: 1n, passes: false },
      { name: 'another tail, updated to the genuine table', code: otherTail, slot2: await ready(genuine), wei: 1n, passes: true },
      { name: 'genuine tail, updated to a table with another last chunk', code: runtime, slot2: await ready(mixed), wei: 1n, passes: false },
      { name: 'genuine tail, preset genuine table, no wei', code: runtime, slot2: await ready(genuine), wei: 0n, passes: false },
      { name: 'genuine tail, a one-entry table', code: runtime, slot2: await ready(genuine.slice(0, 1)), wei: 1n, passes: false },
    ]
    const wrong: string[] = []
    for (const c of cases) {
      const address = await deployRaw(s, creationCode(c.code, c.slot2 === undefined ? [] : [{ slot: 2n, value: c.slot2 }]), c.wei)
      const found = await verifyModel(s, address, local, { configLabel: 'review' }).catch((e) => ({ problem: { line: String(e) } }))
      const answers = await Promise.all(rows.map((row) => predictOf(s, address, compiled.abi, plan, row)))
      const agrees = answers.every((a, i) => a !== undefined && a.every((v, j) => v === want[i]![j]))
      if (!found.problem && !agrees) wrong.push(`${c.name}: verify passed, predict differs from the simulator`)
      if (!found.problem !== c.passes) wrong.push(`${c.name}: verify ${found.problem ? `refused (${found.problem.line})` : 'passed'}`)
      if (c.passes && !agrees) wrong.push(`${c.name}: predict differs from the simulator`)
    }
    expect(wrong).toEqual([])
  }, 240_000)
})
