import { batchGasLimit, predictBatchCall, submitPredictBatch, measureBatchGas, type BatchGas } from '../chain/evaluateOnChain.ts'
import { AdaptiveWindow, underWindow } from '../chain/adaptiveWindow.ts'
import { openPredictTarget, type Target } from '../pipeline/predictTarget.ts'
import { guardSpend } from '../chain/spendGuard.ts'
import { errorText } from '../chain/txErrors.ts'
import { IN_FLIGHT, rowsThatFit, sessionGasCap } from '../pipeline/evaluateRows.ts'
import { generateSolidity } from '../codegen/generateSolidity.ts'
import { compileSolidity, type CompiledContract } from '../compile/compileSolidity.ts'
import { loadConfig } from '../config/loadConfig.ts'
import type { Config } from '../config/types.ts'
import { ChainError, Ml2scError } from '../errors/base.ts'
import { readPredictInput, type InputRow } from '../data/readPredictInput.ts'
import { interpret } from '../fixed/encodeRows.ts'
import { headsOf, headTaskOf } from '../ir/heads.ts'
import { headValue } from '../report/headMetrics.ts'
import type { Plan } from '../fixed/types.ts'
import type { Prepared } from '../pipeline/prepareModel.ts'
import { predictPrep } from '../pipeline/predictPrep.ts'
import type { Logger } from '../ui/logger.ts'
import type { Ml2scCommand } from './context.ts'

export type PredictArgs = { config: string; input: string; offchain?: boolean; tx?: boolean; out?: string; quiet?: boolean }

/** One answer per input row: the class (or value) and the raw outputs at scale 2^F, or why the row was refused. */
export type PredictEntry = { prediction: number; raw: string[]; heads?: Record<string, { prediction: number; raw: string[] }> } | { error: string }
export type PredictResult = { rows: PredictEntry[] }

/**
 * `ml2sc predict`: answer the rows of a CSV with the deployed model (the deployment from the last `run` of
 * the config, or one made on the fly when the embedded chain is gone) or with the bit-exact simulator
 * (`offchain`). On chain the answers come from `eth_call` (nothing sent, nothing spent, the chain
 * unchanged) unless `tx`, which sends predictBatch transactions. Every mode gives the same `rows`, byte
 * for byte: an entry per input row, `{prediction, raw}` or `{error}` for a row outside the safe input
 * range (refused before anything is sent, never wrapped). Input columns are matched by header name.
 */
export async function predictCommand(args: PredictArgs, log: Logger): Promise<PredictResult & { fraction: number; classes?: string[] }> {
  const config = await loadConfig(args.config, { output: args.out })
  const prep = await predictPrep(config)
  // off chain, each row is answered by the simulator as it is read
  const rows = await readPredictInput(args.input, config, prep.plan, Boolean(args.offchain))
  const valid = rows.filter((r) => r.input)
  const raw = new Map<InputRow, bigint[]>()
  if (args.offchain) {
    for (const r of rows) if (r.raw) raw.set(r, r.raw)
  } else if (valid.length > 0) {
    const notice = (m: string) => {
      if (!args.quiet) process.stderr.write(`ml2sc: ${m}\n`)
    }
    const outputs = await predictOnChain(config, prep, valid.map((r) => r.input!), log, { tx: Boolean(args.tx), notice })
    valid.forEach((r, i) => raw.set(r, outputs[i]!))
  }
  // a multi-output model: `prediction` is the first head's; `heads` names each head's prediction and raw outputs
  const slices = prep.plan.heads ? headsOf(prep.plan, prep.plan.outputSize) : undefined
  const unit = Number(prep.plan.scale)
  const headsOfRow = (out: bigint[]) =>
    Object.fromEntries(
      slices!.map((h) => {
        const part = out.slice(h.offset, h.offset + h.size)
        return [h.name, { prediction: headValue(headTaskOf(prep.model, h), part.map((v) => Number(v) / unit)), raw: part.map(String) }]
      }),
    )
  return {
    fraction: prep.plan.F,
    classes: prep.task === 'regression' ? undefined : config.data.classes,
    rows: rows.map((r): PredictEntry => {
      const out = raw.get(r)
      if (!out) return { error: r.error ?? 'not answered' }
      if (slices) {
        const heads = headsOfRow(out)
        return { prediction: heads[slices[0]!.name]!.prediction, raw: out.map(String), heads }
      }
      return { prediction: interpret(prep.plan, prep.task, out), raw: out.map(String) }
    }),
  }
}

type Mode = { tx: boolean; notice: (m: string) => void }

async function predictOnChain(config: Config, prep: Prepared, rows: bigint[][], log: Logger, mode: Mode): Promise<bigint[][]> {
  const compiled = compile(config, prep)
  const t = await openPredictTarget(config, prep, compiled, log, mode)
  try {
    const plan = prep.plan
    const { perCall, cap, gas } = await rowsPerCall(t, plan, config, rows.slice(0, 2), mode)
    const batches = Math.ceil(rows.length / perCall)
    // priced from the contract's own gas (eth_estimateGas on these rows: nothing sent)
    if (mode.tx && !t.s.local) await guardSpend(t.s, log, [{ label: 'predict', gas: BigInt(gas.fixed * batches + gas.perRow * rows.length), transactions: batches, exact: false }])
    const outputs: bigint[][][] = new Array(batches)
    let answered = 0
    const failed = (e: unknown, label: string, n: number) => {
      if (e instanceof ChainError && /^predict batch/.test(e.message)) return e
      const text = errorText(e)
      // nodes refuse an oversized call or transaction in their own words ("Missing or invalid parameters.")
      const size = /gas|invalid param|exceed|too large|oversized|limit|payload/i.test(text)
      return new ChainError(`${label} (${n} rows) failed: ${text}`, {
        where: config.chain.rpcUrl ? 'chain.rpcUrl' : 'chain',
        hint: size
          ? `the node may refuse a ${mode.tx ? 'transaction' : 'call'} this large (gas cap ${cap.toLocaleString('en-US')}): set batch.rows lower (e.g. ${Math.max(1, Math.floor(n / 2))})`
          : `check the deployment with \`ml2sc verify\`, or answer with --offchain`,
        cause: e,
      })
    }
    // calls run concurrently, as many as the node answers without slowing down or refusing (adaptiveWindow.ts);
    // transactions are broadcast one after the other (consecutive nonces) and their receipts awaited together
    const window = new AdaptiveWindow({ start: 2, max: 32 }, t.s.rpcRetries)
    const running: Promise<void>[] = []
    let firstError: unknown
    log.progress('predict', 0, rows.length, mode.tx ? 'sending' : 'waiting for the first batch')
    for (let b = 0; b < batches && firstError === undefined; b++) {
      const batch = rows.slice(b * perCall, (b + 1) * perCall)
      const label = `predict batch ${b + 1}/${batches}`
      let sent: Awaited<ReturnType<typeof submitPredictBatch>> | undefined
      if (mode.tx)
        try {
          sent = await submitPredictBatch(t.s, t.address, t.abi, plan, batch, label, batchGasLimit(gas, batch.length, cap))
        } catch (e) {
          firstError ??= failed(e, label, batch.length)
          break
        }
      const job = async () => {
        let extra = 'eth_call'
        if (sent) {
          const res = await sent.wait()
          outputs[b] = res.outputs
          extra = `${res.tx.gasUsed.toLocaleString('en-US')} gas`
        } else outputs[b] = await underWindow(window, () => predictBatchCall(t.s, t.address, t.abi, plan, batch))
        answered += batch.length
        log.progress('predict', answered, rows.length, extra)
      }
      const p = job().catch((e) => void (firstError ??= failed(e, label, batch.length)))
      running.push(p)
      // keep at most the window's calls (or IN_FLIGHT transactions) outstanding
      const depth = mode.tx ? IN_FLIGHT : window.limit
      while (running.length >= depth) await running.shift()
    }
    await Promise.all(running)
    if (firstError !== undefined) throw firstError
    return outputs.flat()
  } finally {
    await t.s.close()
  }
}

/**
 * Rows per call (or transaction): batch.rows, or for `auto` as many as fill 90% of the gas cap, within
 * the calldata limit. The cap is the smaller of chain.txGasCap and the node's block gas limit (and, on
 * the embedded anvil, chain.blockGasLimit); an explicit batch.rows over it is lowered with a notice, so that
 * the node never answers with an opaque refusal.
 */
async function rowsPerCall(t: Target, plan: Plan, config: Config, sample: bigint[][], mode: Mode): Promise<{ perCall: number; cap: number; gas: BatchGas }> {
  const cap = sessionGasCap(t.s, config)
  let m: BatchGas
  try {
    m = await measureBatchGas(t.s, t.address, t.abi, plan, sample)
  } catch (e) {
    throw new ChainError(`cannot estimate the gas of one row at ${t.address}: ${errorText(e)}`, {
      hint: `one row of this model may need more gas than the node allows (cap ${cap.toLocaleString('en-US')}); check the node's block gas limit`,
      cause: e,
    })
  }
  const most = rowsThatFit(m, cap, plan)
  if (config.batch.rows === 'auto') return { perCall: most, cap, gas: m }
  if (config.batch.rows > most) {
    mode.notice(`batch.rows ${config.batch.rows} is over what one ${mode.tx ? 'transaction' : 'call'} can take here (${most} rows under the gas cap of ${cap.toLocaleString('en-US')}): sending ${most} rows at a time`)
    return { perCall: most, cap, gas: m }
  }
  return { perCall: config.batch.rows, cap, gas: m }
}

/** The contract this config generates (solc caches by source, so this is cheap when nothing changed). */
function compile(config: Config, prep: Prepared): CompiledContract {
  const source = generateSolidity(prep.plan, prep.generate)
  return compileSolidity(source, prep.contractName, { hardfork: config.chain.hardfork })
}

/** The readable form: one line per row, the prediction and the outputs as numbers. */
export function predictTable(result: PredictResult, F: number, classes?: string[]): string {
  const lines = ['row  prediction  outputs']
  result.rows.forEach((r, i) => {
    if ('error' in r) lines.push(`${String(i).padEnd(4)} refused     ${r.error}`)
    else lines.push(`${String(i).padEnd(4)} ${(classes?.[r.prediction] ? `${r.prediction} ${classes[r.prediction]}` : String(r.prediction)).padEnd(11)} ${r.raw.map((v) => (Number(v) / 2 ** F).toFixed(6)).join('  ')}${r.heads ? `   (${Object.entries(r.heads).map(([k, v]) => `${k} ${v.prediction}`).join(', ')})` : ''}`)
  })
  return lines.join('\n') + '\n'
}

export const predictModule: Ml2scCommand = {
  builder: (y) =>
    y
      .positional('config', { type: 'string', demandOption: true, describe: 'ml2sc.yaml' })
      .option('input', { type: 'string', demandOption: true, describe: "CSV of rows to answer: a header naming the model's features (any order; a label column is ignored)" })
      .option('offchain', { type: 'boolean', default: false, describe: 'Compute with the simulator: no chain, no gas, the same answers' })
      .option('tx', { type: 'boolean', default: false, describe: 'Send predictBatch transactions (recorded on chain, paid; --yes on a paid chain) instead of eth_call' })
      .example('$0 predict ml2sc.yaml --input rows.csv', 'on chain through eth_call: free, no transaction')
      .example('$0 predict ml2sc.yaml --input rows.csv --tx --yes', 'the same answers as predictBatch transactions (paid)')
      .example('$0 predict ml2sc.yaml --input rows.csv --offchain --json', 'the same rows as JSON, computed off chain'),
  handler: async (a, log) => {
    if (a.tx && a.offchain) throw new Ml2scError('--tx and --offchain cannot go together', { hint: '--tx sends transactions to the chain; --offchain uses no chain at all' })
    const result = await predictCommand({ config: a.config, input: a.input, offchain: a.offchain, tx: a.tx, out: a.out, quiet: a.quiet }, log)
    if (a.json) return { rows: result.rows }
    // the table is the command's output: stdout (progress and notices are on stderr)
    process.stdout.write(predictTable(result, result.fraction, result.classes))
    return undefined
  },
}
