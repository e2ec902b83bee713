// Measures every step's gas for one model and one layout on a real anvil (the cap enforced).
import { encodeFunctionData, toHex, type Hex } from 'viem'
import type { ChainSession } from '../src/chain/connectChain.ts'
import { deployModel } from '../src/chain/deployModel.ts'
import { predictBatchTx, predictSingle } from '../src/chain/evaluateOnChain.ts'
import { sendTx } from '../src/chain/sendTx.ts'
import { uploadWeights } from '../src/chain/uploadWeights.ts'
import { chunkSizeFor, embedsWeights, generateSolidity, type WeightLayout } from '../src/codegen/generateSolidity.ts'
import { ml2scBaselineSolidity, prbImports } from '../src/codegen/layouts/ml2scBaseline.ts'
import { chunkSizes, encodeWeights } from '../src/codegen/weights/weightBlob.ts'
import { measureInternalGas } from '../src/chain/measureInternalGas.ts'
import { applyRatio, E18, ratio } from '../src/fixed/e18.ts'
import { inputScaleOf, weightWidthText } from '../src/fixed/types.ts'
import { compileSolidity, SOLC_DEFAULT_OPTIMIZER } from '../src/compile/compileSolidity.ts'
import { forwardCandidate } from '../src/codegen/forwarding/forwardingModel.ts'
import { updatePayload } from '../src/pipeline/updatePayload.ts'
import { encodeRow } from '../src/fixed/encodeRows.ts'
import type { Plan } from '../src/fixed/types.ts'
import { parameterCount, taskOf } from '../src/ir/taskOf.ts'
import { autoPlan } from '../src/pipeline/prepareModel.ts'
import { heldOutCount } from '../src/pipeline/calibrationRows.ts'
import type { Config } from '../src/config/types.ts'
import { simulate } from '../src/fixed/simulate.ts'
import type { ModelIR } from '../src/ir/types.ts'

export type Measurement = {
  name: string
  layout: string
  /** Weight and input widths of the plan measured (ml2sc's layouts: the default config's `auto`). */
  precision?: string
  shape: number[]
  parameters: number
  runtimeBytes: number
  deploy: number
  upload: number
  uploadTxs: number
  update: number | null
  predictSingle: number
  /** The one-predict transaction (for an opcode trace: bench/trace.ts). */
  predictHash?: Hex
  /** predict called from another contract (cold account access, no 21,000 base, no calldata), and through the 1e18 client; ml2sc's layouts only. */
  predictInternal?: number
  predictClient?: number
  /** The client library's range check and conversion, per feature. */
  clientPerFeature?: number
  batchRows: number
  batchTx: number
  gasPerRow: number
  mismatches: number | null
}

const shape = (m: ModelIR) => [m.inputSize, ...m.layers.map((l) => l.weight.length)]

/** A config with no precision keys: what `ml2sc run` resolves by default. */
export const DEFAULT_PRECISION: Config['precision'] = { weights: 'auto', inputs: 'auto' }

/** The plan `ml2sc run` would deploy for this model with these test rows and no precision keys. */
export function benchPlan(model: ModelIR, rows: number[][], precision = DEFAULT_PRECISION, layout: WeightLayout = 'datacontract', forward = false): Plan {
  const range = { min: Math.min(...rows.flat()), max: Math.max(...rows.flat()) }
  // as `run` does: auto chooses on the calibration rows (the first 20% of the test rows), the range spans them all
  return autoPlan(model, taskOf(model), precision, { rows: rows.slice(0, heldOutCount(rows.length)), range }, undefined, undefined, layout === 'code' || (forward && layout === 'datacontract' && forwardCandidate(model))).plan
}

export async function measureOurs(s: ChainSession, name: string, model: ModelIR, rows: number[][], batchRows: number, layout: WeightLayout = 'datacontract', precision = DEFAULT_PRECISION, opts: { forward?: boolean } = {}): Promise<Measurement> {
  // the default: a small dense model with embedded weights is a forwarding model (forwardingModel.ts)
  const forward = opts.forward ?? true
  const plan = benchPlan(model, rows, precision, layout, forward)
  const c = compileSolidity(generateSolidity(plan, { contractName: 'Bench', layout, forward }), 'Bench')
  const { address, tx } = await deployModel(s, c.bytecode, c.abi)
  const blob = encodeWeights(plan)
  const sizes = chunkSizes(blob.length, chunkSizeFor(layout))
  const up = embedsWeights(plan, { layout }) ? [] : await uploadWeights(s, address, c.abi, blob, sizes)
  const q = rows.map((r, i) => {
    const e = encodeRow(plan, r)
    if (!e.ok) throw new Error(`${name}: row ${i} is outside the plan's safe inputs: ${e.error}`)
    return e.values
  })
  const single = await predictSingle(s, address, c.abi, plan, q[0]!)
  const internal = await measureInternalGas(s, address, plan, {
    task: taskOf(model),
    row: q[0]!,
    features: q[0]!.map((v) => applyRatio(ratio(E18, inputScaleOf(plan)), v)),
  })
  const batch = await predictBatchTx(s, address, c.abi, plan, q.slice(0, batchRows), 'batch')
  const mismatches =
    batch.outputs.filter((o, i) => o.some((v, j) => v !== simulate(plan, q[i]!)[j])).length +
    (single.outputs.some((v, j) => v !== simulate(plan, q[0]!)[j]) ? 1 : 0)
  // a later weight update: rewrite every chunk (new data contracts and pointers swapped, or slots rewritten); `code` is immutable
  const next = updatePayload(plan, { contractName: 'Bench', layout, forward })
  const upd = layout === 'code' ? null : await uploadWeights(s, address, c.abi, next.data, next.sizes, { commitment: next.commitment })
  return {
    name,
    layout,
    precision: `${weightWidthText(plan)} weights, ${plan.inputUnsigned ? 'uint' : 'int'}${8 * plan.inputBytes} inputs at 2^${plan.inputFraction ?? plan.F}`,
    shape: shape(model),
    parameters: parameterCount(model),
    runtimeBytes: c.runtimeBytes,
    deploy: tx.gasUsed,
    upload: up.reduce((a, t) => a + t.gasUsed, 0),
    uploadTxs: up.length,
    update: upd ? upd.reduce((a, t) => a + t.gasUsed, 0) : null,
    predictSingle: single.tx.gasUsed,
    predictHash: single.tx.hash ?? undefined,
    predictInternal: internal.predictInternal,
    predictClient: internal.viaClient,
    clientPerFeature: internal.clientPerFeature,
    batchRows: batch.rows,
    batchTx: batch.tx.gasUsed,
    gasPerRow: Math.round(batch.tx.gasUsed / batch.rows),
    mismatches,
  }
}

export async function measureMl2sc(s: ChainSession, name: string, model: ModelIR, rows: number[][], batchRows: number): Promise<Measurement> {
  const c = compileSolidity(ml2scBaselineSolidity(model, 'Baseline'), 'Baseline', { findImports: prbImports, optimizer: SOLC_DEFAULT_OPTIMIZER })
  const { address, tx } = await deployModel(s, c.bytecode, c.abi, { admin: false })
  const e18 = (x: number) => BigInt(Math.round(x * 1e9)) * 10n ** 9n
  let upload = 0
  let uploadTxs = 0
  for (const [l, layer] of model.layers.entries()) {
    // as ML2SC does: int256 per weight; split rows so each transaction stays under the cap
    const per = Math.max(1, Math.floor(500 / layer.weight[0]!.length))
    for (let r = 0; r < layer.weight.length; r += per) {
      const rowsW = layer.weight.slice(r, r + per).map((row) => row.map(e18))
      upload += (await sendTx(s, 'weights', { to: address, data: encodeFunctionData({ abi: c.abi, functionName: 'setWeights', args: [BigInt(l), rowsW] }) })).gasUsed
      uploadTxs++
    }
    upload += (await sendTx(s, 'biases', { to: address, data: encodeFunctionData({ abi: c.abi, functionName: 'setBiases', args: [BigInt(l), layer.bias.map(e18)] }) })).gasUsed
    uploadTxs++
  }
  const one = await sendTx(s, 'predict', { to: address, data: encodeFunctionData({ abi: c.abi, functionName: 'predictBatch', args: [[rows[0]!.map(e18)]] }) })
  const batch = await sendTx(s, 'batch', { to: address, data: encodeFunctionData({ abi: c.abi, functionName: 'predictBatch', args: [rows.slice(0, batchRows).map((r) => r.map(e18))] }) })
  return {
    name,
    layout: 'ml2sc',
    shape: shape(model),
    parameters: model.layers.reduce((n, l) => n + l.weight.length * (l.weight[0]!.length + 1), 0),
    runtimeBytes: c.runtimeBytes,
    deploy: tx.gasUsed,
    upload,
    uploadTxs,
    update: null,
    predictSingle: one.gasUsed,
    batchRows: Math.min(batchRows, rows.length),
    batchTx: batch.gasUsed,
    gasPerRow: Math.round(batch.gasUsed / Math.min(batchRows, rows.length)),
    mismatches: null,
  }
}

/** A deterministic random MLP (xorshift), for sweeps where only the shape matters for gas. */
export function randomModel(sizes: number[], last: 'sigmoid' | 'identity' = 'sigmoid', seed = 1): ModelIR {
  let x = seed >>> 0 || 1
  const rnd = () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return ((x >>> 0) / 2 ** 32) * 2 - 1
  }
  const layers = sizes.slice(1).map((out, l) => ({
    name: `fc${l + 1}`,
    weight: Array.from({ length: out }, () => Array.from({ length: sizes[l]! }, () => rnd() / Math.sqrt(sizes[l]!))),
    bias: Array.from({ length: out }, () => rnd() * 0.1),
    activation: { kind: l === sizes.length - 2 ? last : 'relu' } as ModelIR['layers'][number]['activation'],
  }))
  return { format: 'synthetic', inputSize: sizes[0]!, layers }
}

export function randomRows(n: number, width: number, seed = 7): number[][] {
  let x = seed
  const rnd = () => {
    x = (x * 1103515245 + 12345) % 2 ** 31
    return x / 2 ** 31
  }
  return Array.from({ length: n }, () => Array.from({ length: width }, rnd))
}

export const hexOf = (b: Uint8Array): Hex => toHex(b)
