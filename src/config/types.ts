import type { Task } from '../ir/types.ts'

/** Integer widths ml2sc can store weights / pack inputs in. */
export type IntWidth = 'int8' | 'int16' | 'int24' | 'int32' | 'int48' | 'int64' | 'int128' | 'int256'
/** Weight widths: int4 (two weights a byte, dense layers only) and the integer widths. */
export type WeightWidth = 'int4' | IntWidth
export type Layout = 'auto' | 'datacontract' | 'code' | 'storage' | 'ml2sc'

/** The resolved config: every default filled in, every path absolute. Defaults live in the schema only. */
export type Config = {
  /** Absolute path of the config file, and its folder (paths in the file are relative to it). */
  file: string
  dir: string
  /** sha256 of what determines the contract and its weights (configHash.ts), stamped in plan.json, the compiled artifact, deployment.json and the report. */
  hash: string
  /** sha256 of `hash` plus what decides an evaluation (test set keys, batch.rows, gas caps), stamped in evaluation.json. */
  evaluationHash: string
  model: {
    path: string
    source?: string
    class?: string
    layers?: string[]
    /** Convolutional models: the input tensor's shape [C, H, W] or [C, L] when the file does not carry it. */
    inputShape?: number[]
    task?: Task
    /** Set by `ml2sc init` when it guessed `layers` from the tensor shapes: the reports say GUESSED. */
    guessed?: boolean
  }
  data: {
    test: string
    /** The target column (of the first output, for a multi-output model). */
    label: string
    /** A multi-output model: one target column per output, in output order (`data.label` as a list); the others are not features. */
    labels?: string[]
    drop: string[]
    limit?: number
    /** Absolute path of a CSV of PyTorch's outputs for the test rows (what agreement is measured against). */
    reference?: string
    /** Class names in output order, for text labels. */
    classes?: string[]
    /** Absolute path of a CSV of rows `precision: auto` chooses on (else a held-out share of the test rows). */
    calibration?: string
  }
  weights: { layout: Layout }
  precision: {
    /** Activation scale: 2^fraction (binary, default) or 10^decimals (PRBMath / ML2SC style); `auto`: 2^20, or smaller when `weights: auto` finds it cheaper and within the tolerance. */
    fraction?: number | 'auto'
    decimals?: number
    /** Storage width of the weights; `auto` picks by layout and model size; a list or a map by layer name sets each weighted layer's. */
    weights: WeightWidth | 'auto' | WeightWidth[] | Record<string, WeightWidth>
    /** Calldata width of each input feature; `auto` picks the narrowest (and its input scale) from the test rows. */
    inputs: IntWidth | 'auto'
    /** How far outputs may be from PyTorch's (data.reference) before `run` fails: output units, or `"N%"` of each output's range. */
    tolerance?: number | string
  }
  batch: {
    /** Rows per evaluation transaction; `auto` lets the gas model fill the per-transaction cap. */
    rows: number | 'auto'
    /** Bytes of weights per upload transaction; `auto` lets the gas model choose. */
    upload: number | 'auto'
  }
  chain: {
    /** Any EVM JSON-RPC. Absent: ml2sc starts its own anvil. */
    rpcUrl?: string
    /** anvil forks this RPC. */
    fork?: string
    /** Expected chain id; checked before anything is spent. */
    chainId?: number
    /** The model's owner, fixed in its creation code (default: the deploying account). */
    owner?: `0x${string}`
    hardfork: string
    /** Per-transaction gas cap to respect (EIP-7825). */
    txGasCap: number
    /** Block gas limit of the embedded anvil. */
    blockGasLimit: number
  }
  /** Absolute output folder (default `out/` beside the config). */
  output: string
}
