import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import type { Abi, Hex } from 'viem'
import { connectChain, type ChainSession } from '../chain/connectChain.ts'
import { deployModel } from '../chain/deployModel.ts'
import { predictBatchTx } from '../chain/evaluateOnChain.ts'
import { uploadWeights } from '../chain/uploadWeights.ts'
import { embedsWeights, generateSolidity } from '../codegen/generateSolidity.ts'
import { chunkSizes, commitmentOf, encodeWeights } from '../codegen/weightBlob.ts'
import { compileSolidity, type CompiledContract } from '../compile/compileSolidity.ts'
import { isCompiledCode } from '../compile/runtimeCodeHash.ts'
import { loadConfig } from '../config/loadConfig.ts'
import type { Config } from '../config/types.ts'
import { ChainError, DataError, Ml2scError } from '../errors/base.ts'
import { columnsOf, readHeader, readRows } from '../data/readCsv.ts'
import { encodeRow, interpret } from '../fixed/encodeRows.ts'
import { simulate } from '../fixed/simulate.ts'
import type { Plan } from '../fixed/types.ts'
import { ANVIL_STATE_FILE, DEPLOYMENT_FILE } from '../pipeline/artifacts.ts'
import { openChain } from '../pipeline/openChain.ts'
import { prepareModel, type Prepared } from '../pipeline/prepareModel.ts'
import type { Logger } from '../ui/logger.ts'
import type { Ml2scCommand } from './context.ts'
import { autoBatchRows } from '../pipeline/evaluateRows.ts'

export type PredictArgs = { config: string; input: string; offchain?: boolean; out?: string; quiet?: boolean }

/** One answer per input row: the class (or value) and the raw outputs at scale 2^F, or why the row was refused. */
export type PredictEntry = { prediction: number; raw: string[] } | { error: string }
export type PredictResult = { rows: PredictEntry[] }

/** Largest calldata per predictBatch transaction (nodes refuse transactions over ~128 KB). */

type InputRow = { row: number; features: number[]; input?: bigint[]; error?: string }

/**
 * `ml2sc predict`: answer the rows of a CSV on chain (the deployment from the last `run` of the config,
 * or one made on the fly when that chain is gone) or with the bit-exact simulator (`offchain`). Both give
 * the same `rows`, byte for byte: an entry per input row, `{prediction, raw}` or `{error}` for a row
 * outside the safe input range (refused before anything is sent, never wrapped).
 */
export async function predictCommand(args: PredictArgs, log: Logger): Promise<PredictResult & { fraction: number }> {
  const config = await loadConfig(args.config, { output: args.out })
  const prep = await prepareModel(config)
  const rows = await readInput(args.input, config, prep.plan)
  const valid = rows.filter((r) => r.input)
  const raw = new Map<InputRow, bigint[]>()
  if (args.offchain) {
    for (const r of valid) raw.set(r, simulate(prep.plan, r.input!))
  } else if (valid.length > 0) {
    const outputs = await predictOnChain(config, prep, valid.map((r) => r.input!), log, (m) => {
      if (!args.quiet) process.stderr.write(`ml2sc: ${m}\n`)
    })
    valid.forEach((r, i) => raw.set(r, outputs[i]!))
  }
  return {
    fraction: prep.plan.F,
    rows: rows.map((r): PredictEntry => {
      const out = raw.get(r)
      if (!out) return { error: r.error ?? 'not answered' }
      return { prediction: interpret(prep.plan, prep.task, out), raw: out.map(String) }
    }),
  }
}

/**
 * Read the input rows. The config's data.label and data.drop apply, but the input need not have those
 * columns: a label column is ignored when present, and drop names only the columns the file has.
 */
async function readInput(file: string, config: Config, plan: Plan): Promise<InputRow[]> {
  const input = path.resolve(file)
  if (!existsSync(input)) throw new DataError('input CSV not found', { where: file, hint: 'give the rows to answer with --input rows.csv' })
  const header = await readHeader(input)
  const drop = [...config.data.drop, config.data.label].filter((c) => header.includes(c))
  // the label column (if any) is dropped unread: predict never needs it, and it may hold anything
  const opts = { label: '\u0000no label', drop, features: plan.inputSize, requireLabel: false }
  const names = columnsOf(header, input, opts).featureNames
  const rows: InputRow[] = []
  for await (const r of readRows(input, opts)) {
    const enc = encodeRow(plan, r.features, names)
    rows.push({ row: r.row, features: r.features, ...(enc.ok ? { input: enc.values } : { error: `row ${r.row}: ${enc.error}` }) })
  }
  return rows
}

/** What answers on chain: a session, the contract and its ABI. */
type Target = { s: ChainSession; address: Hex; abi: Abi }

async function predictOnChain(config: Config, prep: Prepared, rows: bigint[][], log: Logger, notice: (m: string) => void): Promise<bigint[][]> {
  const compiled = compile(config, prep)
  const t = await openTarget(config, prep, compiled, log, notice)
  try {
    const { s, address, abi } = t
    const plan = prep.plan
    const perTx = config.batch.rows === 'auto' ? await autoBatchRows(s, address, abi, plan, config, rows.slice(0, 2), log) : config.batch.rows
    const outputs: bigint[][] = []
    const batches = Math.ceil(rows.length / perTx)
    for (let b = 0; b < batches; b++) {
      const res = await predictBatchTx(s, address, abi, plan, rows.slice(b * perTx, (b + 1) * perTx), `predict batch ${b + 1}/${batches}`)
      outputs.push(...res.outputs)
      log.progress('predict', outputs.length, rows.length, `${res.tx.gasUsed.toLocaleString('en-US')} gas`)
    }
    return outputs
  } finally {
    await t.s.close()
  }
}

/** The contract this config generates (solc caches by source, so this is cheap when nothing changed). */
function compile(config: Config, prep: Prepared): CompiledContract {
  const source = generateSolidity(prep.plan, prep.generate)
  return compileSolidity(source, prep.contractName, { hardfork: config.chain.hardfork })
}

type DeploymentFile = { chainId: number; address: Hex; abi?: Abi }

async function readDeployment(config: Config): Promise<DeploymentFile | undefined> {
  const file = path.join(config.output, DEPLOYMENT_FILE)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch {
    return undefined
  }
  try {
    const d = JSON.parse(text) as DeploymentFile
    if (typeof d.chainId === 'number' && typeof d.address === 'string' && /^0x[0-9a-fA-F]{40}$/.test(d.address)) return d
  } catch {}
  throw new Ml2scError(`${file} is not a deployment ml2sc wrote`, { where: file, hint: `run \`ml2sc run ${path.relative(process.cwd(), config.file) || config.file}\` again` })
}

/**
 * The deployment to ask. On an RPC chain: the one in deployment.json, checked to be this config's contract
 * with this config's weights. On the embedded anvil: the chain the last run left (anvil-state.json), when
 * it is there and still holds that contract; otherwise a fresh anvil, deploying and uploading on the fly.
 */
async function openTarget(config: Config, prep: Prepared, compiled: CompiledContract, log: Logger, notice: (m: string) => void): Promise<Target> {
  const commitment = commitmentOf(encodeWeights(prep.plan))
  const rerun = `run \`ml2sc run ${path.relative(process.cwd(), config.file) || config.file}\``
  const dep = await readDeployment(config)
  if (config.chain.rpcUrl) {
    if (!dep)
      throw new ChainError(`no ${DEPLOYMENT_FILE} in ${config.output}: nothing is deployed for this config on ${config.chain.rpcUrl}`, { hint: `${rerun} first (or predict with --offchain)` })
    const s = await connectChain(config.chain)
    try {
      if (dep.chainId !== s.chainId) throw new ChainError(`${DEPLOYMENT_FILE} is for chain ${dep.chainId}, but the RPC is chain ${s.chainId}`, { hint: rerun })
      const problem = await checkContract(s, dep.address, compiled, commitment)
      if (problem) throw new ChainError(`${problem}`, { where: dep.address, hint: `${rerun} again (or predict with --offchain)` })
      return { s, address: dep.address, abi: compiled.abi }
    } catch (e) {
      await s.close()
      throw e
    }
  }
  if (!config.chain.fork && dep && existsSync(path.join(config.output, ANVIL_STATE_FILE))) {
    const s = await openChain(config, log, 'resume')
    const problem = await checkContract(s, dep.address, compiled, commitment).catch((e) => String((e as Error).message ?? e))
    if (!problem) return { s, address: dep.address, abi: compiled.abi }
    await s.close()
    notice(`the saved chain does not hold this config's model (${problem}); deploying on a fresh anvil instead`)
  } else notice(`the embedded anvil of the last run is gone: starting anvil, deploying and uploading the model on the fly`)
  const s = await connectChain(config.chain)
  try {
    const { address } = await deployModel(s, compiled.bytecode, compiled.abi)
    if (!embedsWeights(prep.plan, prep.generate)) {
      const blob = encodeWeights(prep.plan)
      await uploadWeights(s, address, compiled.abi, blob, chunkSizes(blob.length, prep.chunkSize))
    }
    return { s, address, abi: compiled.abi }
  } catch (e) {
    await s.close()
    throw e
  }
}

/** Why the contract at `address` would not answer as this config's model does, or undefined when it would. */
async function checkContract(s: ChainSession, address: Hex, compiled: CompiledContract, commitment: Hex): Promise<string | undefined> {
  const code = await s.publicClient.getCode({ address })
  if (!code || code === '0x') return `no contract at ${address} on chain ${s.chainId}`
  if (!isCompiledCode(code, compiled)) return `the contract at ${address} is not the one this config generates (the model, precision or ml2sc changed since the last run)`
  const has = (name: string) => compiled.abi.some((x) => x.type === 'function' && x.name === name)
  if (has('ready') && !(await s.publicClient.readContract({ address, abi: compiled.abi, functionName: 'ready' })))
    return `the weights upload to ${address} is not complete`
  if (has('commitment')) {
    const onChain = (await s.publicClient.readContract({ address, abi: compiled.abi, functionName: 'commitment' })) as Hex
    if (onChain.toLowerCase() !== commitment.toLowerCase()) return `the weights at ${address} (commitment ${onChain.slice(0, 10)}…) are not this config's (${commitment.slice(0, 10)}…)`
  }
  return undefined
}

/** The readable form: one line per row, the prediction and the outputs as numbers. */
export function predictTable(result: PredictResult, F: number): string {
  const lines = ['row  prediction  outputs']
  result.rows.forEach((r, i) => {
    if ('error' in r) lines.push(`${String(i).padEnd(4)} refused     ${r.error}`)
    else lines.push(`${String(i).padEnd(4)} ${String(r.prediction).padEnd(11)} ${r.raw.map((v) => (Number(v) / 2 ** F).toFixed(6)).join('  ')}`)
  })
  return lines.join('\n') + '\n'
}

export const predictModule: Ml2scCommand = {
  command: 'predict <config>',
  describe: 'Answer the rows of a CSV with the deployed model (or --offchain with the bit-exact simulator)',
  builder: (y) =>
    y
      .positional('config', { type: 'string', demandOption: true, describe: 'ml2sc.yaml' })
      .option('input', { type: 'string', demandOption: true, describe: 'CSV of rows to answer (header row; a label column is ignored)' })
      .option('offchain', { type: 'boolean', default: false, describe: 'Compute with the simulator: no chain, no gas, the same answers' })
      .example('$0 predict ml2sc.yaml --input rows.csv', 'on chain, with the deployment from the last run')
      .example('$0 predict ml2sc.yaml --input rows.csv --offchain --json', 'the same rows as JSON, computed off chain'),
  handler: async (a, log) => {
    const result = await predictCommand({ config: a.config, input: a.input, offchain: a.offchain, out: a.out, quiet: a.quiet }, log)
    if (a.json) return { rows: result.rows }
    // the table is the command's output: stdout (progress and notices are on stderr)
    process.stdout.write(predictTable(result, result.fraction))
    return undefined
  },
}
