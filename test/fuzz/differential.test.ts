// Differential fuzzing: the contract (real solc, real anvil, predictBatch transactions of many rows each)
// against the simulator (the batched one for batches, simulate() for single rows), bit for bit. Thousands of random rows (uniform, wide, extreme, near the
// safe-range boundary, zeros, negatives, tiny) over the PyTorch fixtures and synthetic models that reach
// every activation, several lane groups, the looped kernel (> 48 products), several data contracts, and
// weight/input widths from int4 to int64. Rows outside the safe input range must be refused by encodeRow
// and are never sent. Each case stands for one kind (kernel, layout, activation, width, join): a kind is not
// repeated for its own sake, and rows are a few hundred per small model, fewer per CNN or wide model (every
// row kind of fuzzRows.ts still comes up in every case).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import path from 'node:path'
import { decodeAbiParameters, encodeFunctionData, type Hex } from 'viem'
import { connectChain, type ChainSession } from '../../src/chain/connectChain.ts'
import { batchGasLimit, measureBatchGas, predictBatchTx } from '../../src/chain/evaluateOnChain.ts'
import { UNROLL_LIMIT } from '../../src/codegen/dense/memoryMap.ts'
import { kernelOf } from '../../src/codegen/dense/memoryMap.ts'
import { embedsWeights, type WeightLayout } from '../../src/codegen/generateSolidity.ts'
import { readAllRows } from '../../src/data/readCsv.ts'
import { encodeRow, packRowWords } from '../../src/fixed/encodeRows.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import { simulateBatch } from '../../src/fixed/simulateBatch.ts'
import type { PrecisionSpec } from '../../src/fixed/types.ts'
import type { Activation, ModelIR } from '../../src/ir/types.ts'
import { headsLayer } from '../../src/ir/heads.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import { FIXTURES } from '../helpers/paths.ts'
import { randomCnns } from '../helpers/randomCnn.ts'
import { deployPlan } from '../helpers/deployPlan.ts'
import { rng } from '../helpers/rng.ts'
import { edgeRows, inRange, KINDS, makeRow, type Kind } from '../helpers/fuzzRows.ts'
import { A, chain, concatMlp, graph, headsMlp, NEW_OPS, probe, residualMlp } from '../helpers/syntheticModels.ts'

const TX_GAS_CAP = 16_777_216
const MAX_CALLDATA = 96_000

type Case = { name: string; model: ModelIR | (() => Promise<ModelIR>); precision: PrecisionSpec; rows: number; chunkSize?: number; csv?: string; spread?: number; embed?: boolean; layout?: WeightLayout }
const P = (fraction: number, weightBytes: number, inputBytes: number): PrecisionSpec => ({ fraction, weightBytes, inputBytes })
const DEFAULT = P(20, 2, 4)
const r0 = rng(1)
/** Each op of `acts` fed the inputs themselves, in one contract: a layer per op reads the input (W = identity), the heads layer returns them side by side. */
const probes = (n: number, acts: Activation[]): ModelIR => {
  const layers = acts.map((a, k) => ({ ...probe(n, a).layers[0]!, name: `probe${k}`, ...(k ? { input: { op: 'concat' as const, values: [0] } } : {}) }))
  const { layer, heads } = headsLayer(acts.map((_, k) => `op${k}`), acts.map((_, k) => ({ op: 'concat' as const, values: [k + 1] })), () => n, 'synthetic')
  return { format: 'synthetic-graph', inputSize: n, layers: [...layers, layer], heads }
}

const fixture = (name: string): Case => ({
  name: `fixture ${name}`,
  model: () => loadModel({ path: path.join(FIXTURES, name, 'model.onnx') }),
  precision: DEFAULT,
  rows: 250,
  csv: path.join(FIXTURES, name, 'test.csv'),
})

const CASES: Case[] = [
  fixture('bc_sigmoid'), // relu, sigmoid
  fixture('diabetes_reg'), // relu, identity (regression)
  fixture('digits_bn'), // 64 inputs: looped kernel; BatchNorm folded
  fixture('iris_softmax'), // softmax
  fixture('wine_tanh_leaky'), // tanh, leaky_relu(0.1)
  // the activations on their own, fed the inputs themselves: sweeps them on chain over the whole safe range
  { name: 'probe sigmoid (8 lanes-wide, 2 groups)', model: probe(8, A.sigmoid), precision: DEFAULT, rows: 300, spread: 60, embed: false },
  { name: 'probe tanh, layout code', model: probe(8, A.tanh), precision: DEFAULT, rows: 300, spread: 30, layout: 'code' },
  { name: 'probe softmax, layout storage', model: probe(8, A.softmax), precision: DEFAULT, rows: 300, spread: 60, layout: 'storage' },
  { name: 'probe identity, int64 inputs at 2^40', model: probe(6, A.identity), precision: P(40, 2, 8), rows: 200 },
  {
    name: 'deep narrow 3×10, every activation',
    model: chain(r0, [3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3], [A.tanh, A.leaky(0.2), A.relu, A.sigmoid, A.identity, A.tanh, A.relu, A.leaky(0.05), A.sigmoid, A.softmax], { scale: 1.5 }),
    precision: DEFAULT,
    rows: 400,
    embed: false,
  },
  {
    name: 'wide 12-64-32-10, int8 weights, int16 inputs, 300-byte data contracts',
    model: chain(r0, [12, 64, 32, 10], [A.relu, A.tanh, A.softmax]),
    precision: P(12, 1, 2),
    rows: 300,
    chunkSize: 300,
    embed: false,
  },
  {
    name: 'looped 61-24-53-7, int32 weights',
    model: chain(r0, [61, 24, 53, 7], [A.leaky(0.1), A.sigmoid, A.identity]),
    precision: P(20, 4, 4),
    rows: 300,
    embed: false,
  },
  {
    // fused kernel (too many lane words to pack), streamed group by group from 4 data contracts; the full
    // groups' MACs unrolled, the short last group's looped (over the unroll budget)
    name: 'fused and streamed 600-9-3, 4 data contracts',
    model: chain(r0, [600, 9, 3], [A.tanh, A.identity]),
    precision: DEFAULT,
    rows: 60,
    chunkSize: 3000,
  },
  // streamed groups in one loop, some inside a data contract (one EXTCODECOPY from its address) and some astride two (copyRange)
  { name: 'int8 weights, fused and streamed 200-48-3, a run of groups across chunk boundaries', model: chain(r0, [200, 48, 3], [A.relu, A.identity]), precision: P(12, 1, 2), rows: 80, chunkSize: 2500, embed: false },
  { name: 'fused 40-30-20-5, int8 weights, int16 inputs, whole blob', model: chain(r0, [40, 30, 20, 5], [A.relu, A.leaky(0.1), A.softmax]), precision: P(12, 1, 2), rows: 200, embed: false },
  { name: 'looped first layer 100-1 sigmoid, layout code', model: chain(r0, [100, 1], [A.sigmoid]), precision: DEFAULT, rows: 250, layout: 'code' },
  { name: 'int64 weights and inputs at 2^32', model: chain(r0, [5, 6, 2], [A.tanh, A.identity]), precision: P(32, 8, 8), rows: 300, embed: false },
  { name: 'int8 everything at 2^8, layout storage', model: chain(r0, [6, 4, 3], [A.relu, A.softmax]), precision: P(8, 1, 1), rows: 300, layout: 'storage' },
  { name: 'binary sigmoid head at 2^40, int24 weights', model: chain(r0, [4, 4, 1], [A.sigmoid, A.sigmoid]), precision: P(40, 3, 8), rows: 300 },
  { name: 'leaky slopes 100 and -20 (negative side grows)', model: chain(r0, [2, 2, 2, 3], [A.leaky(100), A.leaky(-20), A.identity], { scale: 1 }), precision: DEFAULT, rows: 200 },
  { name: 'leaky slopes 1.5 and -0.3', model: chain(r0, [4, 6, 6, 2], [A.leaky(1.5), A.leaky(-0.3), A.identity]), precision: DEFAULT, rows: 200 },
  { name: 'large weights (±300) and biases (±1000)', model: chain(r0, [5, 5, 2], [A.tanh, A.identity], { scale: 300, bias: 1000 }), precision: DEFAULT, rows: 200 },
  {
    name: 'an all-zero layer (only its biases)',
    model: (() => {
      const m = chain(r0, [4, 3, 2], [A.tanh, A.sigmoid])
      m.layers[0]!.weight = m.layers[0]!.weight.map((row) => row.map(() => 0))
      return m
    })(),
    precision: DEFAULT,
    rows: 100,
  },
  { name: 'tiny weights (±1e-6)', model: chain(r0, [5, 5, 2], [A.relu, A.sigmoid], { scale: 1e-6 }), precision: DEFAULT, rows: 200 },
  // the new ops: each fed the inputs themselves (the whole safe range and the saturation regions), then all in one chain
  // (six and five of them to a contract, each op its own layer reading the input: one contract per op only repeated the rest)
  ...[NEW_OPS.slice(0, 6), NEW_OPS.slice(6)].map((ops): Case => ({ name: `new ops, each fed the inputs: ${ops.map((a) => JSON.stringify(a)).join(', ')}`, model: probes(4, ops), precision: DEFAULT, rows: 400, spread: 14, embed: false })),
  {
    name: 'new op chain: silu, gelu, mish, elu, hardswish, hardsigmoid, softplus, relu6, gelu(tanh), log_softmax',
    model: chain(r0, [5, 6, 6, 6, 6, 6, 6, 6, 6, 6, 4], [NEW_OPS[5]!, NEW_OPS[6]!, NEW_OPS[9]!, { kind: 'elu', alpha: 0.5 }, NEW_OPS[3]!, NEW_OPS[2]!, { kind: 'softplus', threshold: 3 }, NEW_OPS[0]!, NEW_OPS[7]!, NEW_OPS[10]!], { scale: 1.5 }),
    precision: DEFAULT,
    rows: 300,
  },
  { name: 'new op chain at 2^40, int24 weights, layout code: gelu, softplus, log_softmax', model: chain(r0, [6, 8, 8, 3], [NEW_OPS[6]!, NEW_OPS[8]!, NEW_OPS[10]!]), precision: P(40, 3, 8), rows: 200, layout: 'code' },
  { name: 'new op chain, int8 at 2^12, layout storage: mish, hardtanh(-1, 1), silu', model: chain(r0, [7, 9, 5, 2], [NEW_OPS[9]!, NEW_OPS[1]!, NEW_OPS[5]!]), precision: P(12, 1, 2), rows: 200, layout: 'storage' },
  // a CNN whose conv/pool layers carry new ops (the conv kernels' inline activations)
  ...randomCnns(2, 900).map(({ model, describe }, i): Case => {
    const acts: Activation[] = [NEW_OPS[6]!, NEW_OPS[9]!, NEW_OPS[3]!, NEW_OPS[4]!]
    const m: ModelIR = { ...model, tensorLayers: model.tensorLayers!.map((l, k) => ({ ...l, activation: l.kind === 'conv' ? acts[(k + i) % acts.length]! : l.activation })) }
    return { name: `new op CNN (conv activations gelu/mish/hardswish/elu): ${describe}`, model: m, precision: DEFAULT, rows: 60, embed: i === 0 ? undefined : false }
  }),
  // convolutional models (random conv/pool stacks) at the other widths: int8 weights and int16 inputs, int24
  // weights, int64 inputs (the default widths' CNNs: the new-op CNNs above, and codegen/conv-contract's, which
  // reach every feature of randomCnn in every layout)
  ...randomCnns(6, 300).flatMap(({ model, describe }, i): Case[] => (i === 1 || i === 2 || i === 4 ? [{
    name: `CNN ${describe}`,
    model,
    precision: [DEFAULT, P(16, 1, 2), P(20, 3, 4), DEFAULT, P(24, 2, 8), DEFAULT][i]!,
    rows: 60,
    ...(i % 2 ? { embed: false } : {}),
  }] : [])),
  // inputs at their own scale (precision.inputs: auto): the first layer shifts back from 2^(s+Fin) to 2^F
  { name: 'uint16 inputs at 2^15 (ML2SC-like [0, 1] features), 30-4-1 sigmoid', model: chain(r0, [30, 4, 1], [A.relu, A.sigmoid]), precision: { ...DEFAULT, inputBytes: 2, inputFraction: 15, inputUnsigned: true }, rows: 250, spread: 1 },
  { name: 'int16 inputs at 2^12, looped first layer 64-12-5 tanh/softmax', model: chain(r0, [64, 12, 5], [A.tanh, A.softmax]), precision: { ...DEFAULT, inputBytes: 2, inputFraction: 12 }, rows: 200, embed: false },
  // narrow first-layer lanes beside 5-byte biases of the next layer: fewer lanes, so a group's biases fit one MLOAD
  { name: 'int8 inputs at 2^5, 9-40-3 (lanes capped by the bias width)', model: chain(r0, [9, 40, 3], [A.relu, A.identity]), precision: { ...DEFAULT, inputBytes: 1, inputFraction: 5 }, rows: 200, embed: false },
  // a CNN's inputs at their own scale: its first conv's weights sit at 2^(s + F − Fin), the same SAR by s lands at 2^F
  ...randomCnns(3, 500).map(({ model, describe }, i): Case => ({
    name: `CNN, ${['int16 inputs at 2^12', 'uint16 inputs at 2^15', 'int16 inputs at 2^12, layout storage'][i]}: ${describe}`,
    model,
    precision: [{ ...DEFAULT, inputBytes: 2, inputFraction: 12 }, { ...DEFAULT, inputBytes: 2, inputFraction: 15, inputUnsigned: true }, { ...DEFAULT, inputBytes: 2, inputFraction: 12 }][i]!,
    rows: 60,
    ...(i === 1 ? { spread: 1 } : i === 2 ? { layout: 'storage' as const } : { embed: false }),
  })),
  // graph models (issue 19 part D): residual sums and concatenations, skips from the input at its own scale
  { name: 'graph: residual 6-8-8-8-3, h + f(h) twice, the head reads a sum of three', model: residualMlp(r0, 6, 8, 3, A.relu, A.softmax), precision: DEFAULT, rows: 250 },
  { name: 'graph: residual with tanh/identity blocks, int8 at 2^12, layout code', model: residualMlp(r0, 5, 6, 2, A.tanh, A.identity), precision: P(12, 1, 2), rows: 200, layout: 'code' },
  { name: 'graph: three heads (3 logits, a tanh-chain value, a sigmoid) side by side in the identity heads layer', model: headsMlp(r0, 6, 8, 3), precision: DEFAULT, rows: 200 },
  { name: 'graph: concat of two branches and a skip of the input, layout storage', model: concatMlp(r0, 7, 5, 4, 3, A.softmax), precision: DEFAULT, rows: 250, layout: 'storage' },
  { name: 'graph: concat, uint16 inputs at 2^15 shifted left to 2^20', model: concatMlp(r0, 6, 4, 5, 1, A.sigmoid), precision: { ...DEFAULT, inputBytes: 2, inputFraction: 15, inputUnsigned: true }, rows: 200, spread: 1, embed: false },
  { name: 'graph: concat, int64 inputs at 2^26 shifted right to 2^20', model: concatMlp(r0, 4, 3, 3, 2, A.identity), precision: { ...DEFAULT, inputBytes: 8, inputFraction: 26 }, rows: 200, embed: false },
  {
    // fused kernel, looped joins (> 64 words): a residual of width 70 and a concat of the 80 inputs with it
    name: 'graph: fused 80-70-70-3 residual and an 80+70 concat (looped joins)',
    model: graph(r0, 80, [[80, 70, A.relu], [70, 70, A.leaky(0.1)], [70, 70, A.tanh, { op: 'add', values: [1, 2] }], [150, 3, A.identity, { op: 'concat', values: [0, 3] }]]),
    precision: DEFAULT,
    rows: 80,
    embed: false,
  },
  // int4 weights (two a byte; issue 23): lanes 4 bits apart, packets that end in a spare nibble, odd fields read with a 4-bit SHR
  { name: 'int4 weights, uint8 inputs at 2^7, fused and streamed 300-20-10, 3 data contracts (odd fields in acc4 in layer 0, shifted in layer 1)', model: chain(r0, [300, 20, 10], [A.relu, A.identity]), precision: { fraction: 12, weightBytes: 0.5, inputBytes: 1, inputFraction: 7, inputUnsigned: true }, rows: 80, spread: 1, chunkSize: 2000 },
  // wide rows of unsigned 1-/2-byte inputs: one CALLDATALOAD per 32 bytes, Σx gathered by one MUL per word, the last word masked to the row
  { name: 'uint16 inputs at 2^15, fused 150-40-3 (row words decoded with SHR/AND, a 6-input tail)', model: chain(r0, [150, 40, 3], [A.relu, A.identity]), precision: { ...DEFAULT, inputBytes: 2, inputFraction: 15, inputUnsigned: true }, rows: 150, spread: 1 },
  { name: 'int16 inputs at 2^12, fused 150-40-3 (signed fields: SIGNEXTEND, Σx less 2^16 per negative one)', model: chain(r0, [150, 40, 3], [A.tanh, A.identity]), precision: { ...DEFAULT, inputBytes: 2, inputFraction: 12 }, rows: 150 },
  { name: 'int8 inputs at 2^5, fused 200-30-2 (signed bytes, a 8-input tail)', model: chain(r0, [200, 30, 2], [A.relu, A.identity]), precision: { ...DEFAULT, inputBytes: 1, inputFraction: 5 }, rows: 150, embed: false },
  { name: 'int4 weights, int16 inputs at 2^10, packed 13-7-5-3 relu/tanh/softmax', model: chain(r0, [13, 7, 5, 3], [A.relu, A.tanh, A.softmax]), precision: P(10, 0.5, 2), rows: 200, embed: false },
  { name: 'int4 weights, 40-30-20-5, layout storage', model: chain(r0, [40, 30, 20, 5], [A.relu, A.leaky(0.1), A.identity]), precision: P(12, 0.5, 2), rows: 150, layout: 'storage' },
  { name: 'int4 weights, layout code 9-11-3', model: chain(r0, [9, 11, 3], [A.relu, A.sigmoid]), precision: P(12, 0.5, 2), rows: 150, layout: 'code' },
  { name: 'uint8 inputs at 2^7, 9-40-3 (10 groups, inputs decoded once)', model: chain(r0, [9, 40, 3], [A.relu, A.identity]), precision: { ...DEFAULT, inputBytes: 1, inputFraction: 7, inputUnsigned: true }, rows: 200, embed: false },
  // the code layout's unsigned input words need no mask (telescoped lane words, inferenceYul.ts calldataMacs):
  // the ML2SC shape at int24 (two words, the second ends 4 bytes short: padding, or the next row in a batch),
  // and uint8 inputs (32 per word, then 8)
  { name: 'layout code, uint16 inputs at 2^15, int24 weights, 30-4-1 sigmoid (telescoped input words)', model: chain(r0, [30, 4, 1], [A.relu, A.sigmoid]), precision: { ...P(20, 3, 2), inputFraction: 15, inputUnsigned: true }, rows: 250, spread: 1, layout: 'code' },
  { name: 'layout code, uint8 inputs at 2^7, 40-4-2 (telescoped input words)', model: chain(r0, [40, 4, 2], [A.relu, A.identity]), precision: { ...DEFAULT, inputBytes: 1, inputFraction: 7, inputUnsigned: true }, rows: 200, layout: 'code' },
]

// ---- the run -------------------------------------------------------------------------------------------

/** eth_call each of `calls` at the latest block, in one JSON-RPC batch request; a failed call throws. */
async function ethCallBatch(url: string, calls: { from: Hex; to: Hex; data: Hex }[]): Promise<Hex[]> {
  const body = calls.map((c, id) => ({ jsonrpc: '2.0', id, method: 'eth_call', params: [c, 'latest'] }))
  const res = (await (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json()) as { id: number; result?: Hex; error?: { message: string } }[]
  const byId = new Map(res.map((r) => [r.id, r]))
  return calls.map((_, id) => {
    const r = byId.get(id)
    if (!r?.result) throw new Error(`eth_call ${id} of the batch failed: ${r?.error?.message ?? 'no answer'}`)
    return r.result
  })
}

let s: ChainSession
const totals = { rows: 0, singles: 0, refused: 0, mismatches: 0, transactions: 0, models: 0, layouts: new Set<string>() }
beforeAll(async () => {
  s = await connectChain({ hardfork: 'prague', txGasCap: TX_GAS_CAP, blockGasLimit: 30_000_000 })
})
afterAll(async () => await s?.close())

describe('differential fuzzing: chain vs simulator, bit for bit', () => {
  CASES.forEach((c, ci) => {
    test(c.name, async () => {
      const model = typeof c.model === 'function' ? await c.model() : c.model
      const plan = makePlan(model, c.precision)
      const { compiled, address, layout, embedded } = await deployPlan(s, plan, { name: `Fuzz${ci}`, layout: c.layout, chunkSize: c.chunkSize, embed: c.embed })
      totals.layouts.add(layout === 'datacontract' && embedded ? 'datacontract (embedded)' : layout)

      const r = rng(1000 + ci)
      const features: number[][] = []
      const kinds: Kind[] = []
      if (c.csv) for (const f of (await readAllRows(c.csv, { label: 'label' })).features) (features.push(f), kinds.push('csv'))
      while (features.length < c.rows) {
        const kind = KINDS[features.length % KINDS.length]!
        features.push(makeRow(r, plan, kind, c.spread ?? 4))
        kinds.push(kind)
      }
      // encodeRow accepts exactly the rows whose every feature rounds into the safe range; others are refused
      const good: bigint[][] = []
      features.forEach((f, i) => {
        const enc = encodeRow(plan, f)
        const expected = f.every((x) => inRange(plan, x))
        expect(enc.ok).toBe(expected)
        if (kinds[i] === 'outside') expect(enc.ok).toBe(false)
        if (enc.ok) {
          expect(enc.values.every((v) => v >= plan.inputMin && v <= plan.inputMax)).toBe(true)
          good.push(enc.values)
        } else totals.refused++
      })
      expect(good.length).toBeGreaterThan(c.rows * 0.8)
      good.push(...edgeRows(r, plan))

      // as many rows per transaction as the gas cap (with a margin) and calldata allow
      const m = await measureBatchGas(s, address, compiled.abi, plan, [good[good.length - 1]!, good[good.length - 2]!])
      const perTx = Math.max(1, Math.min(Math.floor((TX_GAS_CAP * 0.7 - m.fixed) / m.perRow), Math.floor(MAX_CALLDATA / (plan.inputSize * plan.inputBytes))))
      let mismatches = 0
      let first = ''
      for (let at = 0; at < good.length; at += perTx) {
        const batch = good.slice(at, at + perTx)
        const res = await predictBatchTx(s, address, compiled.abi, plan, batch, `fuzz ${c.name}`, batchGasLimit(m, batch.length, TX_GAS_CAP))
        expect(res.tx.gasUsed).toBeLessThan(TX_GAS_CAP)
        totals.transactions++
        // the batched simulator against the chain's batch (singles below: simulate() row by row)
        const sims = simulateBatch(plan, batch)
        res.outputs.forEach((onchain, k) => {
          const sim = sims[k]!
          if (sim.length !== onchain.length || sim.some((v, j) => v !== onchain[j])) {
            mismatches++
            first ||= `row [${batch[k]!.join(', ')}]: chain [${onchain.join(', ')}] vs simulator [${sim.join(', ')}]`
          }
        })
      }
      // one row at a time takes other code paths (a large model's single row skips the packing pass)
      // (the 44 eth_calls go to anvil as one JSON-RPC batch: the same calls, one HTTP round trip)
      const singles = [...good.slice(0, 20), ...good.slice(-24)]
      const rets = await ethCallBatch(
        s.rpcUrl,
        singles.map((row) => ({ from: s.account.address, to: address, data: encodeFunctionData({ abi: compiled.abi, functionName: 'predict', args: [packRowWords(plan, row)] }) })),
      )
      for (const [k, row] of singles.entries()) {
        const [out] = decodeAbiParameters([{ type: 'int256[]' }], rets[k]!)
        const sim = simulate(plan, row)
        if (out.length !== sim.length || out.some((v, j) => v !== sim[j])) {
          mismatches++
          first ||= `predict(row [${row.join(', ')}]): chain [${out.join(', ')}] vs simulator [${sim.join(', ')}]`
        }
        totals.singles++
      }
      const one = await predictBatchTx(s, address, compiled.abi, plan, [good[0]!], `fuzz ${c.name} (1 row)`, batchGasLimit(m, 1, TX_GAS_CAP))
      if (one.outputs[0]!.some((v, j) => v !== simulate(plan, good[0]!)[j])) (mismatches++, (first ||= 'predictBatch of one row differs'))
      totals.rows += good.length
      totals.mismatches += mismatches
      totals.models++
      expect(first).toBe('')
      expect(mismatches).toBe(0)
    })
  })

  test('coverage: ≥ 10,000 rows on chain, 0 mismatches, every activation, lane groups and the looped kernel', async () => {
    console.log(`differential fuzzing: ${totals.rows} rows on chain in ${totals.transactions} predictBatch transactions and ${totals.singles} predict calls over ${totals.models} models, ${totals.mismatches} mismatches, ${totals.refused} rows refused by encodeRow`)
    expect(totals.models).toBe(CASES.length)
    expect(totals.rows).toBeGreaterThanOrEqual(10_000)
    expect(totals.mismatches).toBe(0)
    expect(totals.refused).toBeGreaterThan(0)
    expect([...totals.layouts].sort()).toEqual(['code', 'datacontract', 'datacontract (embedded)', 'storage'])
    const models = await Promise.all(CASES.map(async (c) => (typeof c.model === 'function' ? await c.model() : c.model)))
    const plans = models.map((m, i) => makePlan(m, CASES[i]!.precision))
    const kinds = new Set(models.flatMap((m) => m.layers.map((l) => l.activation.kind)))
    expect([...kinds].sort()).toEqual(
      ['elu', 'gelu', 'hardsigmoid', 'hardswish', 'hardtanh', 'identity', 'leaky_relu', 'log_softmax', 'mish', 'relu', 'sigmoid', 'silu', 'softmax', 'softplus', 'tanh'],
    )
    const layers = plans.flatMap((p) => p.layers)
    expect(layers.some((l) => Math.ceil(l.nOut / l.lanes) > 1)).toBe(true) // several lane groups
    expect(layers.some((l) => l.lanes > 1)).toBe(true) // SIMD lanes
    expect(layers.some((l) => l.nIn * Math.ceil(l.nOut / l.lanes) > UNROLL_LIMIT)).toBe(true) // looped kernel
    // every kernel: packed once per transaction, fused per row (whole blob and streamed), PUSH32 constants
    const kernels = new Set(
      plans.map((p, i) => {
        const c = CASES[i]!
        const layout = c.layout ?? 'datacontract'
        const k = kernelOf(p, { layout, embedded: layout === 'datacontract' && embedsWeights(p, { embedWeights: c.embed, layout }) })
        return k.mode + (k.streams ? ' streamed' : '')
      }),
    )
    expect([...kernels].sort()).toEqual(['code', 'fused', 'fused streamed', 'packed'])
    expect(new Set(plans.map((p) => p.weightBytes))).toEqual(new Set([0.5, 1, 2, 3, 4, 8]))
    expect(new Set(plans.map((p) => p.inputBytes))).toEqual(new Set([1, 2, 4, 8]))
    // convolutions and both poolings
    const tensor = new Set(plans.flatMap((p) => (p.tensorLayers ?? []).map((l) => l.kind)))
    expect([...tensor].sort()).toEqual(['avgpool', 'conv', 'maxpool'])
  })
})
