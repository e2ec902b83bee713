// The client library (<Contract>Client.sol) on a real anvil, called from another contract (the gas probe of
// src/chain/measureInternalGas.ts, run through eth_call): for random feature vectors in 1e18, its outputs
// equal the simulator's on ml2sc's own encoding of the same features, and the direct call's raw outputs
// equal the simulator's; a feature just outside the safe range reverts FeatureOutOfRange naming its index;
// the conversion costs at most 150 gas per feature. Three models: the breast-cancer example (int24 inputs
// at 2^19, straddling words), a multiclass model at 10^6 with int64 inputs, a regression at 2^20 with int32,
// and a 45-input model whose conversion runs in the client's loop and tail.
import { describe, expect, test } from 'bun:test'
import { decodeErrorResult, parseAbi, type Hex } from 'viem'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { deployModel } from '../../src/chain/deployModel.ts'
import { uploadWeights } from '../../src/chain/uploadWeights.ts'
import { internalGasProbe, measureInternalGas, runProbe, type Probe } from '../../src/chain/measureInternalGas.ts'
import { embedsWeights, generateSolidity } from '../../src/codegen/generateSolidity.ts'
import { chunkSizes, encodeWeights } from '../../src/codegen/weights/weightBlob.ts'
import { compileSolidity } from '../../src/compile/compileSolidity.ts'
import { loadConfig } from '../../src/config/loadConfig.ts'
import { applyRatio, decodeOutputsE18, E18, encodeRowE18, featureRangeE18, inputRatio, toE18 } from '../../src/fixed/e18.ts'
import { encodeRow } from '../../src/fixed/encodeRows.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import type { Plan } from '../../src/fixed/types.ts'
import type { Task } from '../../src/ir/types.ts'
import { prepareModel } from '../../src/pipeline/prepareModel.ts'
import { fileChain } from '../helpers/fileChain.ts'
import { ROOT } from '../helpers/paths.ts'
import { randomMlp } from '../helpers/randomMlp.ts'
import { rng } from '../helpers/rng.ts'

let s: ChainSession
fileChain((c) => (s = c))

const OUT_OF_RANGE = parseAbi(['error FeatureOutOfRange(uint256 index, int256 value, int256 min, int256 max)'])

type Case = { name: string; plan: Plan; task: Task; C: string; spread: number }

async function cases(): Promise<Case[]> {
  const bc = await prepareModel(await loadConfig(`${ROOT}/ml2sc.yaml.example`))
  return [
    { name: 'breast-cancer (int24 at 2^19)', plan: bc.plan, task: bc.task, C: bc.contractName, spread: 3 },
    { name: 'multiclass at 10^6, int64 inputs', plan: makePlan(randomMlp([13, 6, 3], 5), { fraction: 0, decimals: 6, weightBytes: 4, inputBytes: 8 }), task: 'multiclass', C: 'Multi', spread: 50 },
    { name: 'regression at 2^20, int32 inputs', plan: makePlan(randomMlp([9, 5, 1], 8), { fraction: 20, weightBytes: 2, inputBytes: 4 }), task: 'regression', C: 'Reg', spread: 100 },
    // 45 features: the conversion loop (8 per pass, 5 passes) and a 5-feature tail; int24 at 2^14 straddles words
    { name: '45 inputs, int24 at 2^14 (the loop and its tail)', plan: makePlan(randomMlp([45, 6, 2], 3), { fraction: 18, weightBytes: 2, inputBytes: 3, inputFraction: 14 }), task: 'multiclass', C: 'Wide', spread: 200 },
  ]
}

async function deploy(c: Case): Promise<{ address: Hex; probe: Probe }> {
  const sol = generateSolidity(c.plan, { contractName: c.C })
  const compiled = compileSolidity(sol, c.C)
  const { address } = await deployModel(s, compiled.bytecode, compiled.abi)
  const blob = encodeWeights(c.plan)
  if (!embedsWeights(c.plan)) await uploadWeights(s, address, compiled.abi, blob, chunkSizes(blob.length))
  return { address, probe: internalGasProbe(c.plan, { task: c.task }) }
}

/** A random feature in 1e18 with all 18 decimals, uniform in ±spread. */
const randomE18 = (r: () => number, spread: number) => BigInt(Math.round((r() * 2 - 1) * spread * 1e6)) * 10n ** 12n + BigInt(Math.floor(r() * 1e12))

function revertData(e: unknown): Hex | undefined {
  return (e as { walk?: (f: (x: unknown) => boolean) => { data?: Hex } | null }).walk?.((x) => typeof (x as { data?: unknown }).data === 'string')?.data
}

describe('the client library, called from a contract', async () => {
  for (const c of await cases()) {
    test(`${c.name}: random 1e18 vectors give the simulator's outputs on ml2sc's own encoding`, async () => {
      const { address, probe } = await deploy(c)
      const r = rng(c.plan.inputSize)
      let checked = 0
      for (let k = 0; k < 24; k++) {
        const features = Array.from({ length: c.plan.inputSize }, () => randomE18(r, c.spread))
        // ml2sc's own encoding of the same features, as floats (what a CSV row would give)
        const floats = features.map((v) => Number(v) / 1e18)
        const own = encodeRow(c.plan, floats)
        const mine = encodeRowE18(c.plan, features)
        expect(mine.ok).toBe(own.ok)
        if (!own.ok || !mine.ok) continue
        expect(mine.values).toEqual(own.values)
        const want = simulate(c.plan, own.values)
        const direct = await runProbe(s, probe, address, 'direct', own.values, features)
        const viaClient = await runProbe(s, probe, address, 'client', own.values, features)
        expect(direct.out).toEqual(want)
        expect(viaClient.out).toEqual(decodeOutputsE18(c.plan, want))
        if (k < 3) {
          // the fixed-size overload: the same outputs; its gas against the dynamic one's, printed for the README
          const fixed = await runProbe(s, probe, address, 'clientFixed', own.values, features)
          expect(fixed.out).toEqual(viaClient.out)
          expect(fixed.used).toBeLessThan(viaClient.used) // no length check
          if (k === 0) console.log(`${c.name}: client int256[] ${viaClient.used} gas, int256[${c.plan.inputSize}] ${fixed.used}`)
        }
        checked++
      }
      expect(checked).toBeGreaterThan(12)
    })

    test(`${c.name}: the safe range is exact, and a feature outside it reverts FeatureOutOfRange with its index`, async () => {
      const { min, max } = featureRangeE18(c.plan)
      const ri = inputRatio(c.plan)
      // the bounds are tight: the boundary converts inside [inputMin, inputMax], one more unit outside
      expect(applyRatio(ri, max)).toBeLessThanOrEqual(c.plan.inputMax)
      expect(applyRatio(ri, max + 1n)).toBeGreaterThan(c.plan.inputMax)
      expect(applyRatio(ri, min)).toBeGreaterThanOrEqual(c.plan.inputMin)
      expect(applyRatio(ri, min - 1n)).toBeLessThan(c.plan.inputMin)
      const { address, probe } = await deploy(c)
      // the direct row is unused on the client path (bytes32[K] of zeros)
      const zeros = Array.from({ length: c.plan.inputSize }, () => 0n)
      const base = Array.from({ length: c.plan.inputSize }, (_, i) => (i % 2 ? E18 / 3n : -E18 / 7n))
      for (const [k, v] of [[c.plan.inputSize - 1, max + 1n], [0, min - 1n], [Math.floor(c.plan.inputSize / 2), max + 10n ** 30n]] as const) {
        const features = base.map((x, i) => (i === k ? v : x))
        let data: Hex | undefined
        try {
          await runProbe(s, probe, address, 'client', zeros, features)
        } catch (e) {
          data = revertData(e)
        }
        expect(data).toBeDefined()
        const d = decodeErrorResult({ abi: OUT_OF_RANGE, data: data! })
        expect(d.errorName).toBe('FeatureOutOfRange')
        expect(d.args).toEqual([BigInt(k), v, min, max])
      }
      // on the boundary: accepted, and the outputs are the simulator's on the boundary encoding
      const edge = base.map((x, i) => (i === 0 ? min : i === c.plan.inputSize - 1 ? max : x))
      const enc = encodeRowE18(c.plan, edge)
      expect(enc.ok).toBe(true)
      const got = await runProbe(s, probe, address, 'client', zeros, edge)
      expect(got.out).toEqual(decodeOutputsE18(c.plan, simulate(c.plan, (enc as { values: bigint[] }).values)))
    })
  }

  test('breast-cancer: gas from another contract, and the client costs at most 150 gas per feature', async () => {
    const [c] = await cases()
    const { address, probe } = await deploy(c!)
    const row = [-0.42, 1.3, 0.05, -2.1, 0.7, 0.0, 1.9, -0.33, 0.25, -1.0, 0.5, 0.1, -0.6, 2.2, 0.3, -0.8, 1.1, 0.0, -0.05, 0.45, 1.2, -1.4, 0.6, 0.9, -0.2, 0.15, -0.7, 0.35, 1.6, -0.9]
    const q = (encodeRow(c!.plan, row) as { values: bigint[] }).values
    const g = await measureInternalGas(s, address, c!.plan, { task: c!.task, row: q, features: row.map(toE18) })
    expect(g.raw).toEqual(simulate(c!.plan, q))
    expect(g.e18).toEqual(decodeOutputsE18(c!.plan, g.raw))
    // the transaction figure for the same row: the internal call has no 21,000 base and no calldata, but a cold account access
    expect(probe.bytecode.length).toBeGreaterThan(2)
    console.log(`breast-cancer: predict from a contract ${g.predictInternal} gas, through the client ${g.viaClient} (${g.clientPerFeature} per feature)`)
    expect(g.predictInternal).toBeGreaterThan(2600)
    expect(g.predictInternal).toBeLessThan(21_000)
    expect(g.clientPerFeature).toBeGreaterThan(0)
    expect(g.clientPerFeature).toBeLessThanOrEqual(150)
  })
})
