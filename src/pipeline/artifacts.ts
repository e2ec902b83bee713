import type { WeightLayout } from '../codegen/generateSolidity.ts'
import type { Calibration } from '../report/rowTypes.ts'
/**
 * The files the pipeline stages hand to each other through the output folder (ezkl style): each stage
 * reads the previous stage's artifact, checks its stamp (the ml2sc version and the config's hash), and
 * writes its own. A missing or stale artifact is one clear error naming the command that makes it.
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { keccak256, type Abi, type Hex } from 'viem'
import type { CompiledContract } from '../compile/compileSolidity.ts'
import type { Config } from '../config/types.ts'
import { Ml2scError } from '../errors/base.ts'
import type { Task } from '../ir/types.ts'
import { writeAtomic } from '../files/writeAtomic.ts'
import { ML2SC_VERSION } from '../version.ts'
import type { Plan } from '../fixed/types.ts'
import { planFromJson, type PlanJson } from './planJson.ts'

export const PLAN_FILE = 'plan.json'
export const DEPLOYMENT_FILE = 'deployment.json'
export const EVALUATION_FILE = 'evaluation.json'
/** The embedded anvil's chain, dumped on exit and loaded by the next command (anvil `--state`). */
export const ANVIL_STATE_FILE = 'anvil-state.json'
export const artifactFileOf = (contractName: string) => `${contractName}.json`

/** Which command writes which artifact (named in the "run … first" errors). */
export type Stage = 'generate' | 'compile' | 'deploy' | 'upload' | 'evaluate' | 'report'

/** Every artifact carries the version of ml2sc that wrote it and the config hash it came from (configHash.ts). */
export type Stamp = { ml2sc: string; configHash: string }

/** plan.json, written by `generate`: the fixed-point plan and everything later stages need to know. */
export type PlanArtifact = Stamp & {
  kind: 'ml2sc/plan'
  contractName: string
  layout: WeightLayout
  task: Task
  /** The model file (and `model.source`) relative to the config, with sha256s: `report` re-reads them. */
  model: { file: string; sha256: string; source?: { file: string; sha256: string }; format: string; shape: number[]; parameters: number }
  /** The generated Solidity file (in the output folder) and the sha256 of its text. */
  source: { file: string; sha256: string }
  /** The canonical weight encoding: its length, the data-contract chunks and its keccak256 (the commitment). */
  weights: { bytes: number; chunkSize: number; chunks: number[]; commitment: Hex }
  plan: PlanJson
  /** The rows `precision: auto` chose the widths on (absent when none were: pinned widths, or too few test rows). */
  calibration?: Calibration
}

/** `<Contract>.json`, written by `compile`: solc's output for the generated source. */
export type CompiledArtifact = Stamp &
  CompiledContract & {
    kind: 'ml2sc/artifact'
    source: { file: string; sha256: string }
    /** The solc standard-JSON input beside the artifact (rebuild or verify the source with `solcVersion`), and the contract in it. */
    standardJson?: { file: string; contract: string }
    /** The shared admin library the model DELEGATECALLs: its CREATE2 address and its standard-JSON input. */
    adminLibrary?: { address: Hex; standardJson: { file: string; contract: string } }
  }

/** deployment.json, written by `deploy` and updated by `upload`. */
export type DeploymentArtifact = Stamp & {
  kind: 'ml2sc/deployment'
  chainId: number
  address: Hex
  contractName: string
  abi: Abi
  /** The model commitment: keccak256 of the canonical weight encoding (on chain once the upload is done). */
  commitment: Hex
  layout: string
  /** A forwarding model (forwardingModel.ts): its initial weights are constants of its code, and an update installs a kernel contract. */
  forwarding?: boolean
  /** keccak256 of the runtime code, immutables zeroed (runtimeCodeHash): checked against the chain before each later stage. */
  codeHash: Hex
  /** Where the runtime code holds immutables (the deployer), zeroed before hashing. */
  immutables?: { start: number; length: number }[]
  /**
   * `hardfork` is the config's; `node`, `push0` and `blockGasLimit` are what the node showed when deployed to
   * (web3_clientVersion, whether it ran PUSH0, its latest block's gas limit).
   */
  chain: { local: boolean; /** Nothing real is spent: local, or a development node on this machine (ChainSession.free). */ free?: boolean; hardfork: string; anvil: string | null; state: string | null; node?: string | null; push0?: boolean; blockGasLimit?: number }
  upload: { chunks: number; written: number; done: boolean }
  /** ml2sc's shared admin library, which the model DELEGATECALLs for everything but inference. */
  adminLibrary?: { address: Hex; codeHash: Hex }
  /**
   * `adminLibrary`: the library's deployment when this deploy had to make it (once per chain), else absent;
   * `create2ProxyFund`: our funding of the CREATE2 deployment proxy's one-time signer, on a chain that lacked the proxy.
   */
  transactions: { deploy: Hex; upload: Hex[]; adminLibrary?: Hex; create2ProxyFund?: Hex }
  gas: { deploy: number; upload: number[]; adminLibrary?: number; create2ProxyFund?: number }
}

/** A transaction (hash, gas from its receipt), or a call (hash null, gas from eth_estimateGas). */
export type TxJson = { label: string; hash: Hex | null; gasUsed: number }
export type EvaluatedRow = { row: number; label?: number; raw?: string[]; error?: string }

/** evaluation.json, written by `evaluate`: each row's raw outputs (decimal strings), the transactions and gas. */
export type EvaluationArtifact = Stamp & {
  kind: 'ml2sc/evaluation'
  chainId: number
  address: Hex
  commitment: Hex
  data: { file: string; sha256: string; rows: number }
  batchRows: number
  gas: { total: number; perRow: number; rows: number }
  /**
   * `receipt`: the rows were answered by transactions (a free chain, or --tx) and the gas is theirs;
   * `estimate`: by eth_call, with each batch's (and the one-row predict's) gas from eth_estimateGas,
   * which is the gas the transaction would use for this code: nothing was sent (a paid chain without --tx).
   */
  gasSource?: 'receipt' | 'estimate'
  /** The batches (hash null for calls). */
  transactions: TxJson[]
  predictSingle: TxJson | null
  /**
   * predict called from another contract (measured on chain: gasleft() around the call in a probe run by
   * eth_call; the cold account access included, no 21,000 base, no calldata), directly and through the 1e18
   * client library, and the client's cost per feature. Null when no row was answered or the node refused.
   */
  predictInternal?: { gas: number; viaClient: number; clientPerFeature: number } | null
  rows: EvaluatedRow[]
}

/** The output folder as the user sees it, e.g. `out/`. */
export function outLabel(config: Config): string {
  const rel = path.relative(process.cwd(), config.output)
  return (rel === '' ? '.' : rel.startsWith('../../..') ? config.output : rel) + '/'
}

/** The config file as the user would type it. */
export function configLabel(config: Config): string {
  const rel = path.relative(process.cwd(), config.file)
  return rel === '' || rel.startsWith('../../..') ? config.file : rel
}

export const runFirst = (config: Config, stage: Stage) => `run \`ml2sc ${stage} ${configLabel(config)}\``

/** The stamp of an artifact: evaluation.json carries the evaluation hash, every other one the contract's (configHash.ts). */
export const stamp = (config: Config, name?: string): Stamp => ({ ml2sc: ML2SC_VERSION, configHash: expectedHash(config, name) })
const expectedHash = (config: Config, name?: string) => (name === EVALUATION_FILE ? config.evaluationHash : config.hash)

export function artifactPath(config: Config, name: string): string {
  return path.join(config.output, name)
}

/** Write an artifact (stable JSON, atomically). Returns its path. */
export async function writeArtifact(config: Config, name: string, value: unknown): Promise<string> {
  const file = artifactPath(config, name)
  await writeAtomic(file, JSON.stringify(value, null, 2) + '\n')
  return file
}

/**
 * Read an artifact and check its stamp. `producer` is the command that makes it: the error says to run
 * it (first, when the file is missing; again, when it is stale).
 */
export async function readArtifact<T extends Stamp>(config: Config, name: string, producer: Stage): Promise<T> {
  const file = artifactPath(config, name)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Ml2scError(`no ${name} in ${outLabel(config)}: ${runFirst(config, producer)} first`)
    throw new Ml2scError(`cannot read ${outLabel(config)}${name}`, { hint: `${runFirst(config, producer)} again`, cause: e })
  }
  let value: T
  try {
    value = JSON.parse(text) as T
  } catch (e) {
    throw new Ml2scError(`${outLabel(config)}${name} is not valid JSON: ${runFirst(config, producer)} again`, { cause: e })
  }
  checkStamp(config, name, producer, value)
  return value
}

export function checkStamp(config: Config, name: string, producer: Stage, value: Partial<Stamp> | null): void {
  const at = `${outLabel(config)}${name}`
  if (!value || typeof value !== 'object' || typeof value.ml2sc !== 'string' || typeof value.configHash !== 'string')
    throw new Ml2scError(`${at} has no ml2sc stamp (not written by ml2sc ${ML2SC_VERSION}): ${runFirst(config, producer)} again`)
  if (value.ml2sc !== ML2SC_VERSION)
    throw new Ml2scError(`${at} is stale: it was made by ml2sc ${value.ml2sc}, this is ml2sc ${ML2SC_VERSION}: ${runFirst(config, producer)} again`)
  const expected = expectedHash(config, name)
  if (value.configHash !== expected)
    throw new Ml2scError(
      `${at} is stale: ${configLabel(config)} (or the model file) changed since it was made (config hash ${value.configHash.slice(0, 8)}, now ${expected.slice(0, 8)}): ${runFirst(config, producer)} again`,
    )
}

/** sha256 (hex) of a file, streamed. */
export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256')
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer)
  return h.digest('hex')
}

export const sha256Text = (text: string) => createHash('sha256').update(text).digest('hex')

/** plan.json (from `generate`), with its plan revived. */
export async function readPlanArtifact(config: Config): Promise<{ artifact: PlanArtifact; plan: Plan }> {
  const artifact = await readArtifact<PlanArtifact>(config, PLAN_FILE, 'generate')
  return { artifact, plan: planFromJson(artifact.plan) }
}

/** `<Contract>.json` (from `compile`), checked to come from the `.sol` that plan.json describes. */
export async function readCompiledArtifact(config: Config, plan: PlanArtifact): Promise<CompiledArtifact> {
  const name = artifactFileOf(plan.contractName)
  const compiled = await readArtifact<CompiledArtifact>(config, name, 'compile')
  if (compiled.source?.sha256 !== plan.source.sha256)
    throw new Ml2scError(`${outLabel(config)}${name} was compiled from another ${plan.source.file} than the one plan.json describes: ${runFirst(config, 'compile')} again`)
  return compiled
}

/** deployment.json (from `deploy`), checked to deploy the artifact `compile` made. */
export async function readDeploymentArtifact(config: Config, compiled?: CompiledArtifact): Promise<DeploymentArtifact> {
  const dep = await readArtifact<DeploymentArtifact>(config, DEPLOYMENT_FILE, 'deploy')
  if (dep.kind !== 'ml2sc/deployment' || !dep.address || !dep.codeHash)
    throw new Ml2scError(`${outLabel(config)}${DEPLOYMENT_FILE} is incomplete: ${runFirst(config, 'deploy')} again`)
  if (compiled && keccak256(compiled.deployedBytecode) !== dep.codeHash)
    throw new Ml2scError(`${outLabel(config)}${DEPLOYMENT_FILE} deployed other code than ${artifactFileOf(compiled.contractName)}: ${runFirst(config, 'deploy')} again`)
  return dep
}
