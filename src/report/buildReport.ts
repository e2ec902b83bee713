import { describeActivation } from '../ir/buildModel.ts'
import { flatActivations } from '../ir/ops/index.ts'
import { parameterCount, shapeOf } from '../ir/taskOf.ts'
import { fixedTensorLayers, floatTensorLayers } from '../fixed/tensorForward.ts'
import { tensorLayerSummary } from './tensorLayerSummary.ts'
import type { ModelIR, Task } from '../ir/types.ts'
import { inputScaleText, inputTypeText, interpret, safeInputRange } from '../fixed/encodeRows.ts'
import { activationErrors } from '../fixed/activations.ts'
import { referenceForward, referenceLayers } from '../fixed/referenceForward.ts'
import { simulateLayers } from '../fixed/simulate.ts'
import { layerWeightBytes, weightedNamesOf, weightWidthsOf, type Plan } from '../fixed/types.ts'
import { scaleText } from '../fixed/makePlan.ts'
import type { Calibration, RowResult } from './rowTypes.ts'
import type { GasRecord } from '../chain/evaluateOnChain.ts'
import type { TxRecord } from '../chain/sendTx.ts'
import { ML2SC_VERSION } from '../version.ts'
import { labelWarnings } from './labelWarnings.ts'
import { ML2SC_GAS_PER_ROW_30_4_1, ml2scComparable } from './ml2scComparable.ts'
import type { ReferenceSource } from './referenceSource.ts'
import type { ToleranceSetting } from '../fixed/tolerance.ts'
import { measureFidelity } from './fidelity.ts'
import { headReturnsOf, headsOf, headTaskOf } from '../ir/heads.ts'
import { headPredictions, headReport, headValue, type HeadRow } from './headMetrics.ts'
import { taskTally } from './taskTally.ts'

export { ML2SC_GAS_PER_ROW_30_4_1 }

export type PredictionRow = { row: number; label: number | string; onchain: number | string; reference: number; raw: string[]; error?: string; heads?: ReturnType<typeof headPredictions> }

export type ReportInput = {
  model: ModelIR
  modelFile: string
  plan: Plan
  task: Task
  layout: string
  /** A forwarding model (the default for small dense models): its first weights are constants of the contract's code; after an update, predict DELEGATECALLs the kernel contract the update created. */
  forwarding?: boolean
  contract: { name: string; runtimeBytes: number; solcVersion: string; evmVersion: string }
  /** `hardfork` from the config; `node`, `push0`, `blockGasLimit`: what the node showed (see DeploymentArtifact.chain). */
  chain: { chainId: number; hardfork: string; anvilVersion?: string; /** Nothing real is spent (the spend guard's "local"): ml2sc's own anvil, or a loopback development node. */ local: boolean; /** ml2sc started the node itself (embedded anvil or a fork of its own). */ embedded?: boolean; node?: string | null; push0?: boolean; blockGasLimit?: number }
  config: { file: string; hash: string }
  /** `batches` and `single` are calls (hash null, gas from eth_estimateGas) when `gasSource` is `estimate`. */
  /** `internal`: predict called from another contract (EvaluationArtifact.predictInternal). */
  gas: { deploy: TxRecord; upload: TxRecord[]; batches: GasRecord[]; single?: GasRecord; internal?: { gas: number; viaClient: number; clientPerFeature: number }; adminLibrary?: TxRecord; gasSource?: 'receipt' | 'estimate' }
  rows: RowResult[]
  batchRows: number
  /** What the reference is; with `outputs` (data.reference: PyTorch's outputs, one per row of `rows`), measured against those. */
  reference?: ReferenceSource & { outputs?: number[][] }
  /** data.classes, for the label warnings. */
  classes?: string[]
  /** precision.tolerance: the fidelity gate's bound (fidelity.ts). */
  tolerance?: ToleranceSetting
  /** The rows `precision: auto` chose on (plan.json): test rows among them are left out of accuracy and error. */
  calibration?: Calibration
  /** model.guessed: the architecture is init's guess from the tensor shapes. */
  guessed?: boolean
  /** A multi-output model: each head's label column (data.label as a list) and, per row of `rows`, each head's label. */
  headLabels?: { columns: string[]; values: (number | undefined)[][] }
}

const round = (x: number, d = 6) => Number(x.toFixed(d))

/** Everything the run measured, as report.json (the acceptance fields plus detail for charts). */
export function buildReport(inp: ReportInput) {
  const { plan, model, task } = inp
  const scale = Number(plan.scale)
  const predictions: PredictionRow[] = []
  const errors: number[] = []
  const layerErr = plan.layers.map(() => 0)
  const tensorErr = (plan.tensorLayers ?? []).map(() => 0)
  let mismatches = 0
  const tally = taskTally(task)
  let answered = 0
  const binaryThreshold = model.layers[model.layers.length - 1]!.activation.kind === 'sigmoid' ? 0.5 : 0
  // a multi-output model: the top-level figures are its first head's (ir/heads.ts); `heads` has each one's
  const slices = plan.heads ? headsOf(plan, plan.outputSize) : undefined
  const first = <T>(y: T[]): T[] => (slices ? y.slice(slices[0]!.offset, slices[0]!.offset + slices[0]!.size) : y)
  const headRows: HeadRow[] = []
  const torch = inp.reference?.outputs
  const cal = inp.calibration
  const heldOut = (row: number) => cal?.source === 'test rows' && row >= cal.first && row <= cal.last
  const refs: number[][] = []
  const outs: (number[] | undefined)[] = []
  for (const [i, r] of inp.rows.entries()) {
    // the float pass once per answered row: its last layer is the reference when PyTorch's outputs are not given
    const refL = r.raw ? referenceLayers(model, r.features) : undefined
    const ref = torch ? torch[i]! : refL ? refL[refL.length - 1]! : referenceForward(model, r.features)
    refs.push(ref)
    outs.push(r.raw?.map((v) => Number(v) / scale))
    // the same rule as interpret(): a sigmoid output is class 1 above 0.5, a raw logit above 0
    const refValue = slices ? headValue(task, first(ref)) : task === 'multiclass' ? ref.indexOf(Math.max(...ref)) : task === 'binary' ? (ref[0]! > binaryThreshold ? 1 : 0) : ref[0]!
    if (slices) headRows.push({ row: r.row, outputs: outs[i], reference: ref, labels: inp.headLabels?.values[i] ?? [r.label], counted: !heldOut(r.row) })
    if (!r.raw) {
      predictions.push({ row: r.row, label: r.label ?? '', onchain: '', reference: refValue, raw: [], error: r.error })
      continue
    }
    answered++
    const on = slices ? headValue(task, first(r.raw).map((v) => Number(v) / scale)) : interpret(plan, task, r.raw)
    predictions.push({ row: r.row, label: r.label ?? '', onchain: task === 'regression' ? round(on, 8) : on, reference: task === 'regression' ? round(refValue, 8) : refValue, raw: r.raw.map(String) })
    // accuracy, agreement and error: not on the rows auto chose on (per-layer error and the simulator: every row)
    const counted = !heldOut(r.row)
    if (counted) {
      r.raw.forEach((v, j) => errors.push(Math.abs(Number(v) / scale - ref[j]!)))
    }
    // the simulator must agree with the chain bit for bit; per-layer error against the float pass
    const xq = r.input!
    const simL = simulateLayers(plan, xq)
    const sim = simL[simL.length - 1]!
    if (sim.length !== r.raw.length || sim.some((v, j) => v !== r.raw![j])) mismatches++
    simL.forEach((ys, l) => ys.forEach((y, j) => (layerErr[l] = Math.max(layerErr[l]!, Math.abs(Number(y) / scale - refL![l]![j]!)))))
    if (tensorErr.length) {
      const refT = floatTensorLayers(model, r.features)
      fixedTensorLayers(plan, xq).forEach((ys, l) => ys.forEach((y, j) => (tensorErr[l] = Math.max(tensorErr[l]!, Math.abs(Number(y) / scale - refT[l]![j]!)))))
    }
    if (counted) tally.add(on, refValue, r.label)
  }
  const sum = (t: { gasUsed: number }[]) => t.reduce((a, b) => a + b.gasUsed, 0)
  const inference = sum(inp.gas.batches)
  const params = parameterCount(model)
  const uploadGas = sum(inp.gas.upload)
  const perRow = answered ? Math.round(inference / answered) : 0
  const agreement = tally.agreement()
  const acc = tally.accuracy()
  const accuracy = task === 'regression' ? { mae: tally.mae(), agreement } : { onchain: acc.onchain, reference: acc.reference, agreement }
  const rowsCounted = {
    /** answered rows that accuracy, agreement and error are measured on */
    count: tally.evaluated,
    /** the calibration rows left out (the test rows `precision: auto` chose on), or null */
    excluded: cal?.source === 'test rows' ? { first: cal.first, last: cal.last, count: cal.count } : null,
  }
  const fidelity = measureFidelity(outs, refs, inp.rows.map((r) => r.row), inp.tolerance, torch ? 'pytorch-csv' : 'ml2sc-float')
  const maxAbs = errors.length ? Math.max(...errors) : 0
  // a head ending in a softmax / log_softmax says what it returns
  const heads = slices?.map((h, i) => ({ ...headReport(h, i, headTaskOf(model, h), inp.headLabels?.columns[i] ?? null, headRows, fidelity.tolerances), ...(headReturnsOf(model, h) ? { returns: headReturnsOf(model, h) } : {}) }))
  if (slices) {
    const tasks = slices.map((h) => ({ slice: h, task: headTaskOf(model, h) }))
    predictions.forEach((p, i) => (p.heads = headPredictions(tasks, headRows[i]!)))
    // no agreement with PyTorch is claimed while any head's outputs are beyond their tolerance
    if (heads!.some((h) => !h.within) && fidelity.enforced) accuracy.agreement = null
  }
  const comparable = ml2scComparable(model, task)
  const classCount = task === 'binary' ? 2 : slices ? slices[0]!.size : model.layers[model.layers.length - 1]!.weight.length
  const warnings = labelWarnings(task, classCount, inp.rows.map((r) => r.label), (accuracy as { onchain?: number | null }).onchain ?? null, { classNames: inp.classes })
  if (inp.guessed)
    warnings.unshift(
      `architecture GUESSED: \`ml2sc init\` guessed model.layers from the tensor shapes (no nn.Module source beside the model)${model.recurrent ? `, reading ${model.recurrent.kind.toUpperCase()} '${model.recurrent.name}' as its last time step's output (out[:, -1, :]) into the Linear layers; give model.source + model.class if forward() does otherwise` : ''}; only data.reference (PyTorch's outputs) can show it is right`,
    )
  if (!fidelity.enforced && !fidelity.within && fidelity.worst)
    warnings.push(`row ${fidelity.worst.row}, output ${fidelity.worst.output} is ${fidelity.worst.deviation} from ml2sc's float pass, beyond the tolerance ${fidelity.worst.tolerance} (precision.tolerance ${fidelity.tolerance}); add data.reference to hold the run to PyTorch`)
  const { outputs: _outputs, ...reference } = inp.reference ?? { source: 'ml2sc-float' as const, architecture: 'file' as const, description: 'ml2sc float forward pass' }
  return {
    ml2sc: ML2SC_VERSION,
    createdAt: new Date().toISOString(),
    config: inp.config,
    tools: { solc: inp.contract.solcVersion, evmVersion: inp.contract.evmVersion, anvil: inp.chain.anvilVersion ?? null, hardfork: inp.chain.hardfork },
    chain: { chainId: inp.chain.chainId, local: inp.chain.local, embedded: inp.chain.embedded ?? inp.chain.local, hardfork: inp.chain.hardfork, node: inp.chain.node ?? null, push0: inp.chain.push0 ?? null, blockGasLimit: inp.chain.blockGasLimit ?? null },
    /** What accuracy.reference, accuracy.agreement, error.maxAbs and predictions.csv's reference are measured against. */
    reference,
    model: {
      file: inp.modelFile,
      format: model.format,
      task,
      shape: shapeOf(model),
      architecture: model.layers.map((l) => ({ name: l.name, in: l.weight[0]!.length, out: l.weight.length, activation: describeActivation(l.activation), ...(l.input ? { reads: l.input } : {}) })),
      // a convolutional model: its input tensor and the conv/pool layers before the dense ones above
      ...(model.inputShape && model.tensorLayers?.length ? { inputShape: model.inputShape, tensorLayers: tensorLayerSummary(model.tensorLayers) } : {}),
      // a sequence model: its window [T, F] and the GRU/LSTM before the dense layers
      ...(model.recurrent ? { inputShape: model.inputShape, recurrent: { kind: model.recurrent.kind, name: model.recurrent.name, steps: model.recurrent.steps, features: model.recurrent.features, hidden: model.recurrent.hidden, layers: model.recurrent.next ? 2 : 1, directions: model.recurrent.reverse ? 2 : 1 } } : {}),
      // an attention model: its window [T, E] and the self-attention before the dense layers
      ...(model.attention ? { inputShape: model.inputShape, attention: { name: model.attention.name, tokens: model.attention.tokens, embed: model.attention.embed, heads: model.attention.heads, pool: model.attention.pool } } : {}),
      parameters: params,
      /** the architecture is `ml2sc init`'s guess from the tensor shapes (model.guessed) */
      guessed: inp.guessed ?? false,
    },
    precision: {
      fraction: plan.decimals === undefined ? plan.F : null,
      decimals: plan.decimals ?? null,
      /** the activation scale, as text (`2^20`, `10^18`) and as a number to divide raw outputs by */
      scale: scaleText(plan),
      unit: Number(plan.scale),
      /** the widest layer's weight width (weightWidths: each weighted layer's, conv layers first, as chosen per layer by precision: auto) */
      weightBits: 8 * plan.weightBytes,
      weightWidths: Object.fromEntries(weightedNamesOf(plan).map((n, i) => [n, 8 * weightWidthsOf(plan)[i]!])),
      biasBits: 8 * plan.biasBytes,
      inputBits: 8 * plan.inputBytes,
      inputScale: inputScaleText(plan),
      inputType: inputTypeText(plan),
      outputBits: 8 * plan.outputBytes,
      safeInputRange: safeInputRange(plan),
      /** largest abs error of each sigmoid/tanh/softmax against the float function at this scale (half an ulp + the approximation's) */
      activationMaxError: activationErrors([...new Set(plan.layers.flatMap((l) => [l.activation, ...(l.input?.post ? [l.input.post] : [])]).flatMap(flatActivations).map((a) => a.kind))], plan.scale),
      layers: plan.layers.map((l, i) => ({ name: l.name, weightBits: 8 * layerWeightBytes(plan, i), weightScaleBits: l.wShift, laneBits: l.laneBits, lanes: l.lanes })),
      /** precision.tolerance: how far an output may be from PyTorch's (see fidelity) */
      tolerance: fidelity.tolerance,
      /** the rows `precision: auto` chose the widths on (test rows first…last, or data.calibration's), or null when nothing was chosen on rows */
      calibration: cal ?? null,
    },
    layout: inp.layout,
    forwarding: inp.forwarding ?? false,
    contract: { name: inp.contract.name, runtimeBytes: inp.contract.runtimeBytes },
    gas: {
      deploy: inp.gas.deploy.gasUsed,
      /** ml2sc's shared admin library, deployed in this run because the chain did not have it yet (once per chain); else 0 */
      adminLibrary: inp.gas.adminLibrary?.gasUsed ?? 0,
      upload: uploadGas,
      uploadTransactions: inp.gas.upload.length,
      perParameter: { upload: round(uploadGas / params, 1), deployAndUpload: round((uploadGas + inp.gas.deploy.gasUsed) / params, 1), inference: round(perRow / params, 1) },
      inference: { perRow, rows: answered, total: inference, transactions: inp.gas.batches.length, batchRows: inp.batchRows },
      predictSingle: inp.gas.single?.gasUsed ?? null,
      /** a sequence model: (one predict − the 21,000 base) / T, calldata and the dense head included */
      ...(model.recurrent && inp.gas.single ? { perTimeStep: Math.round((inp.gas.single.gasUsed - 21_000) / model.recurrent.steps) } : {}),
      /** where the inference and one-predict figures come from: transaction receipts, or eth_estimateGas of calls (nothing sent) */
      predictSingleSource: inp.gas.single ? (inp.gas.gasSource ?? 'receipt') : null,
      /** predict called from another contract: the cold account access and the call, no 21,000 base, no calldata (measured on chain, gasleft() around the call) */
      predictInternal: inp.gas.internal?.gas ?? null,
      /** the same call through the generated 1e18 client library (<Contract>Client.sol), and its conversion cost per feature */
      predictInternalClient: inp.gas.internal?.viaClient ?? null,
      clientPerFeature: inp.gas.internal?.clientPerFeature ?? null,
      inferenceSource: inp.gas.gasSource ?? 'receipt',
      /** ML2SC's 30-4-1 gas per row over this run's, only for a comparable model (ml2scComparable); else null */
      ml2scRatio: perRow && comparable ? round(ML2SC_GAS_PER_ROW_30_4_1 / perRow, 1) : null,
      ml2scComparable: comparable,
    },
    accuracy: { ...accuracy, rows: rowsCounted },
    /** a multi-output model: every head with its own metric (the top-level accuracy is the first head's); else absent */
    ...(heads ? { heads } : {}),
    /** the fidelity gate: every answered row's outputs against the reference, within precision.tolerance */
    fidelity,
    error: {
      maxAbs: round(maxAbs, 9),
      meanAbs: errors.length ? round(errors.reduce((a, b) => a + b, 0) / errors.length, 9) : 0,
      perLayer: plan.layers.map((l, i) => ({ name: l.name, maxAbs: round(layerErr[i]!, 9) })),
      // a convolutional model: the same for each conv/pool layer (fixed point vs the float pass, before the dense layers)
      ...(tensorErr.length ? { perTensorLayer: plan.tensorLayers!.map((l, i) => ({ name: l.name, maxAbs: round(tensorErr[i]!, 9) })) } : {}),
      histogram: histogram(errors),
    },
    simulator: { mismatches, rows: answered },
    /** Label problems that point at a wrong config (labels outside 0…n−1, accuracy at or below chance). */
    warnings,
    rows: { total: inp.rows.length, answered, refused: inp.rows.length - answered },
    // what was sent (calls answered with estimates have no hash and are not transactions)
    transactions: [...(inp.gas.adminLibrary ? [inp.gas.adminLibrary] : []), inp.gas.deploy, ...inp.gas.upload, ...inp.gas.batches, ...(inp.gas.single ? [inp.gas.single] : [])].flatMap((t) => (t.hash ? [{ label: t.label, hash: t.hash, gasUsed: t.gasUsed }] : [])),
    predictions,
  }
}

/** Counts of |error| per decade, from ≤1e-9 to >1e-2. */
function histogram(errors: number[]) {
  const edges = [1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2]
  const counts = new Array(edges.length + 1).fill(0)
  for (const e of errors) {
    let b = edges.findIndex((x) => e <= x)
    if (b < 0) b = edges.length
    counts[b]++
  }
  return { edges, counts }
}

export type Report = ReturnType<typeof buildReport>
