// A module applied three times in a loop (`for _ in range(3): x = F.relu(self.fc(x))`) is stored on chain once:
// the IR marks the second and third application as sharing the first's weights, the plan gives the three one
// lane layout, the blob holds fc's bytes once and every use reads them (the packed kernel's lane words, the
// fused kernel's blob offsets). Checked on anvil: chain = simulator in every layout and kernel; deploy + upload
// gas against the same model stored once per use; a forger who changes the shared bytes is refused by verify;
// an owner's update of the shared weights is answered with by all three uses, and new weights that would
// give the uses different bytes are refused.
import { beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { deployModel } from '../../src/chain/deployModel.ts'
import { ensureAdminLibrary } from '../../src/chain/ensureAdminLibrary.ts'
import { uploadWeights } from '../../src/chain/uploadWeights.ts'
import { verifyModel, type LocalModel } from '../../src/chain/verifyModel.ts'
import { kernelOf } from '../../src/codegen/dense/memoryMap.ts'
import { embedsWeights, generateSolidity, type WeightLayout } from '../../src/codegen/generateSolidity.ts'
import { blobLayout, chunkSizes, commitmentOf, encodeWeights } from '../../src/codegen/weights/weightBlob.ts'
import { compileSolidity } from '../../src/compile/compileSolidity.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import { pinOf, type Plan, type PrecisionSpec } from '../../src/fixed/types.ts'
import type { ModelIR } from '../../src/ir/types.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import { deployCnn } from '../helpers/deployCnn.ts'
import { fileChain } from '../helpers/fileChain.ts'
import { creationCode, deployRaw, predictOf, withImmutables, withTail } from '../helpers/forgery.ts'
import { rng } from '../helpers/rng.ts'
import { writeSharedLoopModel } from '../helpers/sharedLoopModel.ts'

let s: ChainSession
fileChain((c) => (s = c))
beforeAll(async () => void (await ensureAdminLibrary(s)), 240_000)

const P: PrecisionSpec = { fraction: 16, weightBytes: 2, inputBytes: 4 }
async function sharedModel(h: number): Promise<ModelIR> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-shared-chain-'))
  writeSharedLoopModel(dir, h)
  return await loadModel({ path: path.join(dir, 'weights.json'), source: path.join(dir, 'model.py'), class: 'Net' } as Parameters<typeof loadModel>[0])
}
/** The same model with each use stored on its own (as before sharing). */
const unshared = (m: ModelIR): ModelIR => ({ ...m, layers: m.layers.map(({ shares: _s, ...l }) => l) })
const rowsFor = (plan: Plan, n: number, seed: number) => {
  const r = rng(seed)
  return Array.from({ length: n }, () => Array.from({ length: plan.inputSize }, () => BigInt(Math.round((r() * 6 - 3) * 2 ** plan.F))))
}
/** fc (layer 1 and the uses that read it, layers 2 and 3) with every weight negated: what the chain computes from forged fc bytes. */
const fcNegated = (plan: Plan): Plan => ({ ...plan, layers: plan.layers.map((l, i) => (i === 1 || l.shares === 1 ? { ...l, weights: l.weights.map((r) => r.map((w) => -w)) } : l)) })

describe('a module applied three times is stored once', () => {
  test('the IR and the plan: uses 2 and 3 share layer 1, one lane layout; the blob holds fc once', async () => {
    const m = await sharedModel(5)
    expect(m.layers.map((l) => [l.name, l.shares ?? null])).toEqual([['inp', null], ['fc', null], ['fc', 1], ['fc', 1], ['out', null]])
    const plan = makePlan(m, P)
    expect(plan.layers.map((l) => l.shares ?? null)).toEqual([null, null, 1, 1, null])
    expect(new Set(plan.layers.slice(1, 4).map((l) => `${l.lanes}/${l.laneBits}/${l.wShift}`)).size).toBe(1)
    const fcBytes = blobLayout(plan).layers[1]!.end - blobLayout(plan).layers[1]!.at
    expect(blobLayout(plan).layers[2]).toEqual(blobLayout(plan).layers[1]!)
    expect(encodeWeights(plan).length).toBe(encodeWeights(makePlan(unshared(m), P)).length - 2 * fcBytes)
    // a BatchNorm-like change of one use's weights makes it a layer of its own (the IR never shares unequal weights)
    const changed: ModelIR = { ...m, layers: m.layers.map((l, i) => (i === 3 ? { ...l, shares: undefined, weight: l.weight.map((r) => r.map((w) => w * 0.5)) } : l)) }
    expect(makePlan(changed, P).layers.map((l) => l.shares ?? null)).toEqual([null, null, 1, null, null])
  })

  const CASES: { name: string; h: number; layout: WeightLayout; embed?: boolean; kernel: 'code' | 'packed' | 'fused' }[] = [
    { name: 'packed kernel, data contract', h: 5, layout: 'datacontract', embed: false, kernel: 'packed' },
    { name: 'packed kernel, storage', h: 5, layout: 'storage', kernel: 'packed' },
    { name: 'code layout', h: 5, layout: 'code', kernel: 'code' },
    { name: 'fused kernel (h = 64), data contract', h: 64, layout: 'datacontract', embed: false, kernel: 'fused' },
  ]
  for (const c of CASES)
    test(`${c.name}: chain = simulator; deploy + upload and predict gas against the model stored once per use`, async () => {
      const m = await sharedModel(c.h)
      const [gas, predictGas]: number[][] = [[], []]
      for (const model of [m, unshared(m)]) {
        const plan = makePlan(model, P)
        const opts = { layout: c.layout, embedded: c.layout === 'datacontract' && embedsWeights(plan, { layout: c.layout, embedWeights: c.embed }) }
        expect(kernelOf(plan, opts).mode).toBe(c.kernel)
        const d = await deployCnn(s, plan, `Shared${c.h}`, c.layout, c.embed)
        const rows = rowsFor(plan, 40, c.h)
        const out = await d.batch(rows)
        let mismatches = 0
        out.outputs.forEach((o, i) => (mismatches += o.join() === simulate(plan, rows[i]!).join() ? 0 : 1))
        expect(mismatches).toBe(0)
        predictGas.push(await d.predictTxGas(rows[0]!))
        // one more deployment for its receipt's gas (deployCnn does not keep it)
        const { tx } = await deployModel(s, d.compiled.bytecode, d.compiled.abi)
        const blob = encodeWeights(plan)
        const up = c.layout === 'code' ? [] : await uploadWeights(s, tx.contractAddress!, d.compiled.abi, blob, chunkSizes(blob.length))
        gas.push(Number(tx.gasUsed) + up.reduce((n, t) => n + Number(t.gasUsed), 0))
      }
      if (process.env.FUZZ_STATS) console.error(`${c.name}: deploy + upload ${gas[0]} shared, ${gas[1]} stored per use; one predict ${predictGas[0]} / ${predictGas[1]}`)
      // the code layout's lane words are constants in each use's code: nothing is stored, nothing to share
      if (c.layout === 'code') expect(gas[0]!).toBeLessThanOrEqual(gas[1]!)
      else expect(gas[0]!).toBeLessThan(gas[1]!)
      // the packed kernel unpacks fc's lane words once per transaction, not once per use
      if (c.kernel === 'packed') expect(predictGas[0]!).toBeLessThan(predictGas[1]!)
      else expect(predictGas[0]!).toBeLessThanOrEqual(predictGas[1]!)
    }, 600_000)

  test('the first layer as the shared module (x = fc(fc(fc(x)))): shared at the activation scale, chain = simulator; with inputs at their own scale the first use is stored apart', async () => {
    const m = await sharedModel(5)
    const fc = m.layers[1]!
    const loop: ModelIR = { format: 'synthetic', inputSize: 5, layers: [{ ...fc, shares: undefined }, { ...fc, shares: 0 }, { ...fc, shares: 0 }, m.layers[4]!] }
    const plan = makePlan(loop, P)
    expect(plan.layers.map((l) => l.shares ?? null)).toEqual([null, 0, 0, null])
    const d = await deployCnn(s, plan, 'First', 'datacontract', false)
    const rows = rowsFor(plan, 30, 9)
    const out = await d.batch(rows)
    expect(out.outputs.filter((o, i) => o.join() !== simulate(plan, rows[i]!).join()).length).toBe(0)
    // inputs at 2^12 while activations are at 2^16: layer 0's weights take 4 more bits, so its bytes differ
    // from the others'; the second and third uses share theirs
    const own = makePlan(loop, { ...P, inputFraction: 12 })
    expect(own.layers.map((l) => l.shares ?? null)).toEqual([null, null, 1, null])
    expect(own.layers[0]!.wShift).not.toBe(own.layers[1]!.wShift)
    const d2 = await deployCnn(s, own, 'Own', 'datacontract', false)
    const rows2 = rowsFor(own, 30, 10).map((r) => r.map((v) => v >> 4n))
    const out2 = await d2.batch(rows2)
    expect(out2.outputs.filter((o, i) => o.join() !== simulate(own, rows2[i]!).join()).length).toBe(0)
  }, 300_000)

  test('a residual loop (h = h + relu(fc(h)) twice): the shared layer reads a sum, chain = simulator (weights in a data contract, and embedded in the code)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-shared-res-'))
    writeSharedLoopModel(dir, 5)
    const src = readFileSync(path.join(dir, 'model.py'), 'utf8').replace('for _ in range(3):\n            x = F.relu(self.fc(x))', 'for _ in range(2):\n            x = x + F.relu(self.fc(x))')
    writeFileSync(path.join(dir, 'model.py'), src)
    const m = await loadModel({ path: path.join(dir, 'weights.json'), source: path.join(dir, 'model.py'), class: 'Net' } as Parameters<typeof loadModel>[0])
    expect(m.layers.map((l) => [l.name, l.shares ?? null, !!l.input])).toEqual([['inp', null, false], ['fc', null, false], ['fc', 1, true], ['out', null, true]])
    const plan = makePlan(m, P)
    expect(plan.layers[2]!.shares).toBe(1)
    for (const embed of [false, true]) {
      const d = await deployCnn(s, plan, `Res${embed}`, 'datacontract', embed)
      const rows = rowsFor(plan, 30, 12)
      const out = await d.batch(rows)
      expect(out.outputs.filter((o, i) => o.join() !== simulate(plan, rows[i]!).join()).length).toBe(0)
    }
  }, 300_000)

  test('verify proves the shared bytes: a forger who changes fc is refused; the genuine bytes verify', async () => {
    const plan = makePlan(await sharedModel(5), P)
    const compiled = compileSolidity(generateSolidity(plan, { contractName: 'F', layout: 'datacontract', embedWeights: true, forward: false }), 'F')
    const blob = encodeWeights(plan)
    const local: LocalModel = { compiled, blob, sizes: chunkSizes(blob.length), commitment: commitmentOf(blob), embedded: true, layout: 'datacontract', file: 'weights.json' }
    const runtime = withImmutables(compiled.deployedBytecode, compiled.immutables, BigInt(s.account.address))
    const genuine = await deployRaw(s, creationCode(withTail(runtime, blob)))
    expect((await verifyModel(s, genuine, local, { configLabel: 'test' })).problem).toBeUndefined()
    const forged = fcNegated(plan)
    const fake = await deployRaw(s, creationCode(withTail(runtime, encodeWeights(forged))))
    // the forgery is live: all three uses read the changed bytes
    const row = rowsFor(plan, 1, 3)[0]!
    expect(simulate(forged, row).join()).not.toBe(simulate(plan, row).join())
    expect(await predictOf(s, fake, compiled.abi, plan, row)).toEqual(simulate(forged, row))
    const found = await verifyModel(s, fake, local, { configLabel: 'test' }).catch((e) => ({ problem: { check: String(e) } }))
    expect(['code', 'chunk', 'commitment']).toContain(found.problem?.check ?? 'verified')
  }, 300_000)

  test("an owner's update of the shared weights: every use answers with them; new weights that split the uses are refused", async () => {
    const m = await sharedModel(5)
    const plan = makePlan(m, P)
    // the first gas case's contract (same model, plan and options, under its name): compiled once for both
    const d = await deployCnn(s, plan, 'Shared5', 'datacontract', false)
    // retrained weights for the same model (every weight and bias times 0.9, fc's alike in its three uses), at the deployed contract's pin
    const retrained: ModelIR = { ...m, layers: m.layers.map((l) => ({ ...l, weight: l.weight.map((r) => r.map((w) => w * 0.9)), bias: l.bias.map((b) => b * 0.9) })) }
    const next = makePlan(retrained, P, pinOf(plan))
    expect(next.layers.map((l) => l.shares ?? null)).toEqual([null, null, 1, 1, null])
    const blob = encodeWeights(next)
    await uploadWeights(s, d.address, d.compiled.abi, blob, chunkSizes(blob.length))
    for (const row of rowsFor(plan, 5, 4)) {
      expect([...(await d.predict(row))]).toEqual(simulate(next, row))
      expect(simulate(next, row).join()).not.toBe(simulate(plan, row).join())
    }
    // a model whose third application has weights of its own cannot go into a contract that reads one fc
    const split: ModelIR = { ...m, layers: m.layers.map((l, i) => (i === 3 ? { ...l, shares: undefined, weight: l.weight.map((r) => r.map((w) => w * 0.5)) } : l)) }
    expect(() => makePlan(split, P, pinOf(plan))).toThrow("layer 3 ('fc') shares its weights with layer 1 ('fc') in the deployed contract, but the new weights of the two differ")
  }, 300_000)
})
