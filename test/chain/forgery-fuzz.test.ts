// Issue 18: a forgery fuzz. For each layout (datacontract with embedded weights, datacontract with several
// data contracts and an address table, storage, code), a forger's creation code writes random storage (the
// slots the admin library uses, 0, 1, 2, 3.. and STORAGE_BASE.., and a few others), may carry wei, and
// returns the genuine runtime code (for embedded weights, possibly with another model's weights at its tail,
// and possibly an initial owner with dirty upper bits); the state word points at random data contracts and
// address tables. The property: whenever verify passes, predict answers exactly what the bit-exact
// simulator answers for the model, on random rows. Deterministic (fixed seeds), bounded (74 cases).
import { beforeAll, describe, expect, test } from 'bun:test'
import { concat, type Hex } from 'viem'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { ensureAdminLibrary } from '../../src/chain/ensureAdminLibrary.ts'
import { verifyModel, type LocalModel } from '../../src/chain/verifyModel.ts'
import { stateMask, STORAGE_BASE } from '../../src/codegen/admin/adminLibrary.ts'
import { chunkSizeFor, generateSolidity, type WeightLayout } from '../../src/codegen/generateSolidity.ts'
import { chunkSizes, commitmentOf, encodeWeights } from '../../src/codegen/weights/weightBlob.ts'
import { compileSolidity, type CompiledContract } from '../../src/compile/compileSolidity.ts'
import { encodeRow } from '../../src/fixed/encodeRows.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import type { Plan } from '../../src/fixed/types.ts'
import { fileChain } from '../helpers/fileChain.ts'
import { addressTable, creationCode, dataContract, deployRaw, negated, predictOf, stateWord, withImmutables, withTail } from '../helpers/forgery.ts'
import { randomMlp } from '../helpers/randomMlp.ts'
import { rng } from '../helpers/rng.ts'

let s: ChainSession
fileChain((c) => (s = c))

type Case = { layout: string; plan: Plan; compiled: CompiledContract; local: LocalModel; kind: 0 | 1 | 2; pool: Hex[][]; single: Hex[] }
const SPECS: { name: string; layout: WeightLayout; embed: boolean; chunk?: number; cases: number }[] = [
  { name: 'datacontract, embedded', layout: 'datacontract', embed: true, cases: 20 },
  { name: 'datacontract, multi-chunk', layout: 'datacontract', embed: false, chunk: 256, cases: 30 },
  { name: 'storage', layout: 'storage', embed: false, chunk: 128, cases: 16 },
  { name: 'code', layout: 'code', embed: false, cases: 8 },
]
const models: Case[] = []

beforeAll(async () => {
  await ensureAdminLibrary(s)
  for (const [k, spec] of SPECS.entries()) {
    const plan = makePlan(randomMlp(spec.embed || spec.layout === 'code' ? [8, 12, 2] : [16, 24, 4], 40 + k), { fraction: 16, weightBytes: 2, inputBytes: 4 })
    const compiled = compileSolidity(generateSolidity(plan, { contractName: 'F', layout: spec.layout, embedWeights: spec.embed, ...(spec.chunk ? { chunkSize: spec.chunk } : {}) }), 'F')
    const blob = encodeWeights(plan)
    const sizes = chunkSizes(blob.length, chunkSizeFor(spec.layout, spec.chunk))
    const local: LocalModel = { compiled, blob, sizes, commitment: commitmentOf(blob), embedded: spec.embed, layout: spec.layout, file: 'model.json' }
    // data contracts: pool[0] the genuine chunks, pool[1] another model's; single: the whole blob, genuine and other
    const other = encodeWeights(negated(plan))
    const pool: Hex[][] = [[], []]
    if (spec.layout === 'datacontract')
      for (let i = 0, at = 0; i < sizes.length; at += sizes[i]!, i++) for (const [j, b] of [blob, other].entries()) pool[j]!.push(await dataContract(s, b.subarray(at, at + sizes[i]!)))
    const single = spec.layout === 'datacontract' ? [await dataContract(s, blob), await dataContract(s, other)] : []
    models.push({ layout: spec.name, plan, compiled, local, kind: spec.layout === 'storage' ? 2 : spec.layout === 'code' ? 1 : 0, pool, single })
  }
}, 240_000)

/** One forgery: creation-code writes, wei, and the runtime code, drawn from `r`; case 0 is the genuine deployment. */
async function forge(m: Case, r: () => number, genuine: boolean) {
  const pick = <T,>(xs: T[]) => xs[Math.floor(r() * xs.length)]!
  const chance = (p: number) => r() < p
  const word = () => BigInt(`0x${Array.from({ length: 64 }, () => Math.floor(r() * 16).toString(16)).join('')}`)
  const addr = () => word() >> 96n
  const n = m.local.sizes.length
  const account = BigInt(s.account.address)
  const mask = stateMask({ kind: m.kind, embedded: m.local.embedded, chunks: n })
  const writes: { slot: bigint; value: bigint }[] = []
  let runtime = withImmutables(m.compiled.deployedBytecode, m.compiled.immutables, genuine || chance(0.9) ? account : (0xbeefn << 160n) | account)
  const balance = pick([0n, 0n, 1n, 10n ** 18n])
  if (genuine) {
    // as a genuine upload leaves it: the table in the state word, chunk i ≥ 1's address in slot 2 + i
    if (m.kind === 0 && !m.local.embedded) writes.push({ slot: 2n, value: stateWord({ address: await addressTable(s, m.pool[0]!), version: 1, written: n, ready: 1 }) }, ...m.pool[0]!.slice(1).map((a, i) => ({ slot: BigInt(3 + i), value: BigInt(a) })))
    if (m.kind === 2) writes.push({ slot: 2n, value: stateWord({ version: 1, written: n, ready: 1 }) })
  } else {
    if (m.local.embedded && chance(0.5)) runtime = withTail(runtime, encodeWeights(negated(m.plan)))
    if (chance(0.2)) writes.push({ slot: 0n, value: pick([addr(), word(), account, account]) })
    if (chance(0.15)) writes.push({ slot: 1n, value: pick([addr(), word(), account]) })
    if (chance(m.kind === 1 ? 0.4 : 0.8)) {
      // tables: the genuine one, entry 0 genuine and the rest another model's, random entries, one entry too long, a runnable one
      const mixed = () => m.pool[0]!.map((a, i) => (i === 0 ? a : m.pool[chance(0.7) ? 1 : 0]![i]!))
      const choices: (() => Promise<bigint>)[] =
        m.kind === 2 ? [async () => 0n, async () => 0n, async () => addr()]
        : m.kind === 1 ? [async () => addr(), async () => 0n]
        : m.local.embedded ? [async () => BigInt(m.single[0]!), async () => BigInt(m.single[0]!), async () => BigInt(m.single[1]!), async () => 0n, async () => addr(), async () => BigInt(m.pool[0]![0]!)]
        : [
            async () => BigInt(await addressTable(s, m.pool[0]!)),
            async () => BigInt(await addressTable(s, mixed())),
            async () => BigInt(await addressTable(s, mixed())),
            async () => BigInt(await addressTable(s, mixed())),
            async () => BigInt(await addressTable(s, m.pool[0]!.map((_, i) => m.pool[chance(0.5) ? 1 : 0]![i]!))),
            async () => BigInt(await dataContract(s, Buffer.from(`${m.pool[0]!.map((a) => a.slice(2)).join('')}00`, 'hex'))),
            async () => BigInt(await deployRaw(s, creationCode(concat(['0xff', ...m.pool[0]!])))),
            async () => BigInt(m.pool[0]![0]!),
            async () => 0n,
          ]
      const address = await pick(choices)()
      let st = stateWord({ address: `0x${address.toString(16).padStart(40, '0')}` as Hex, version: 1 + Math.floor(r() * 4), tag: Math.floor(r() * 2 ** 32), written: chance(0.9) ? n : Math.floor(r() * (n + 2)), ready: chance(0.9) ? 1 : pick([0, 2, 255]) })
      if (chance(0.9)) st ^= mask
      writes.push({ slot: 2n, value: chance(0.05) ? word() : st })
    }
    if (n > 1 && chance(0.7)) {
      const from = pick([m.pool[0]!, m.pool[0]!, m.pool[1]!])
      for (let i = 1; i < n; i++) writes.push({ slot: BigInt(2 + i), value: BigInt(from[i] ?? addr()) })
    }
    for (let k = Math.floor(r() * 2.5); k > 0; k--) writes.push({ slot: pick([BigInt(3 + Math.floor(r() * 8)), BigInt(STORAGE_BASE + Math.floor(r() * 4)), word()]), value: word() })
  }
  if (m.kind === 2 && (genuine || chance(0.85))) {
    // the storage layout's words: the genuine ones, a few replaced by another model's or by noise, and maybe a
    // non-zero byte after the weights' end in the last word
    const words = Math.ceil(m.local.blob.length / 32)
    const padded = new Uint8Array(32 * words)
    padded.set(m.local.blob)
    const other = new Uint8Array(32 * words)
    other.set(encodeWeights(negated(m.plan)))
    for (let w = 0; w < words; w++) {
      const src = !genuine && chance(0.04) ? other : padded
      let v = BigInt(`0x${Buffer.from(src.subarray(32 * w, 32 * w + 32)).toString('hex')}`)
      if (!genuine && w === words - 1 && m.local.blob.length % 32 && chance(0.15)) v |= 1n
      writes.push({ slot: BigInt(STORAGE_BASE + w), value: v })
    }
  }
  return await deployRaw(s, creationCode(runtime, writes), balance)
}

describe('forgery fuzz: verify passes ⇒ predict equals the simulator', () => {
  for (const [k, spec] of SPECS.entries()) {
    test(`${spec.name}: ${spec.cases} forged deployments`, async () => {
      const m = models[k]!
      const r = rng(1_000 + k)
      const rows = Array.from({ length: 4 }, () => (encodeRow(m.plan, Array.from({ length: m.plan.inputSize }, () => r() * 2 - 1)) as { values: bigint[] }).values)
      const want = rows.map((row) => simulate(m.plan, row))
      const counterexamples: string[] = []
      let verified = 0
      let refused = 0
      for (let c = 0; c < spec.cases; c++) {
        const address = await forge(m, r, c === 0)
        // a verify that throws (an answer it cannot decode) refuses too: it does not exit 0
        const found = await verifyModel(s, address, m.local, { configLabel: 'fuzz' }).catch((e) => ({ problem: String(e) }))
        const answers = await Promise.all(rows.map((row) => predictOf(s, address, m.compiled.abi, m.plan, row)))
        const agrees = answers.every((a, i) => a !== undefined && a.length === want[i]!.length && a.every((v, j) => v === want[i]![j]))
        if (found.problem) refused++
        else {
          verified++
          if (!agrees) counterexamples.push(`case ${c}: verify passed, predict ${answers.map((a) => (a ? a.join('/') : 'reverts')).join(', ')} against the simulator's ${want.map((w) => w.join('/')).join(', ')}`)
        }
        if (c === 0) expect(found.problem).toBeUndefined()
      }
      if (process.env.FUZZ_STATS) console.error(`${spec.name}: ${verified} verified, ${refused} refused`)
      expect(counterexamples).toEqual([])
      // not vacuous: the genuine case (at least) verified, and forgeries were refused
      expect(verified).toBeGreaterThanOrEqual(1)
      expect(refused).toBeGreaterThanOrEqual(spec.layout === 'code' ? 0 : 1)
    }, 240_000)
  }
})
