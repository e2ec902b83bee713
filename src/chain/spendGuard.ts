import type { CostItem } from './costItem.ts'
import { formatEther, formatGwei, type Abi, type Hex } from 'viem'
import { ADMIN_DEPLOY_LABEL, adminDeployTx, adminLibrary } from '../codegen/admin/adminLibrary.ts'
import { ChainError } from '../errors/base.ts'
import { layerWeightBytes, type Plan } from '../fixed/types.ts'
import { flatActivations, opOf } from '../ir/ops/index.ts'
import { joinGas } from '../ir/ops/tensorJoin.ts'
import { isJoin } from '../ir/tensorTypes.ts'
import { sizeOf } from '../ir/tensorShapes.ts'
import { UNROLL_LIMIT } from '../codegen/dense/memoryMap.ts'
import type { Logger } from '../ui/logger.ts'
import { redactUrl, type ChainSession } from './connectChain.ts'
import { checkChunksFit } from './checkChunksFit.ts'
import { calldataGas, estimateUploadGas } from './uploadGas.ts'

export { calldataGas, estimateUploadGas }
import { proxyPlan } from './create2ProxyTx.ts'
import { estimateTxGas } from './txErrors.ts'

/**
 * Money guard. A chain ml2sc started itself (the embedded anvil, or a fork of a real chain) costs nothing,
 * and so does a development node on this machine (a loopback `chain.rpcUrl` with chain id 31337 or 1337);
 * anything else costs real money, so:
 *   - `guardSpend` prints the estimated cost (gas estimate × the node's current gas price) before the first
 *     transaction, refuses without `--yes`, and refuses when the account cannot pay;
 *   - `sendTx` refuses any transaction on a non-local chain unless `--yes` was given (a safety net for code
 *     paths that send without estimating first).
 * The CLI calls `approveSpending(argv.yes)` once per command.
 */
let approved = false
export function approveSpending(yes: boolean): void {
  approved = yes
}

function refusal(s: ChainSession, what: string): ChainError {
  return new ChainError(`chain ${s.chainId} at ${redactUrl(s.rpcUrl)} is not a local chain: ${what} needs --yes`, {
    where: 'chain.rpcUrl',
    hint: 'check the estimated cost, then re-run with --yes to spend it',
  })
}

export function assertSpendingAllowed(s: ChainSession, label: string): void {
  if (s.free || approved) return
  throw refusal(s, `sending a transaction (${label})`)
}

/** `value`: ETH the item transfers besides its gas (funding the CREATE2 proxy's one-time signer; an upload's 1-wei update mark). */
export type { CostItem }
export type CostEstimate = { items: CostItem[]; gas: bigint; gasPrice: bigint; wei: bigint; balance: bigint; account: Hex }

export async function estimateCost(s: ChainSession, items: CostItem[]): Promise<CostEstimate> {
  const [gasPrice, balance] = await Promise.all([s.publicClient.getGasPrice(), s.publicClient.getBalance({ address: s.account.address })])
  const gas = items.reduce((a, b) => a + b.gas, 0n)
  const value = items.reduce((a, b) => a + (b.value ?? 0n), 0n)
  return { items, gas, gasPrice, wei: gas * gasPrice + value, balance, account: s.account.address }
}

const fmtGas = (g: bigint) => g.toLocaleString('en-US')
/** "≈ 0.0123 ETH: 1,234,567 gas at 10 gwei (deploy 300,000; upload ≈ 200,000 in 2 tx; …)" */
export function describeCost(e: CostEstimate): string {
  const eth = Number(formatEther(e.wei))
  const ethText = eth === 0 ? '0' : eth < 1e-6 ? eth.toExponential(2) : eth.toPrecision(4).replace(/\.?0+$/, '')
  const parts = e.items.map((i) => `${i.label} ${i.exact ? '' : '≈ '}${fmtGas(i.gas)}${i.transactions > 1 ? ` in ${i.transactions} tx` : ''}${i.value ? ` + ${i.value < 1_000_000_000n ? `${i.value} wei` : `${formatEther(i.value)} ETH`}` : ''}`)
  return `≈ ${ethText} ETH: ${fmtGas(e.gas)} gas at ${Number(formatGwei(e.gasPrice)).toPrecision(4).replace(/\.?0+$/, '')} gwei (${parts.join('; ')})`
}

/** Print the estimate, then refuse unless the chain is local or --yes was given, and unless the account can pay. */
export async function guardSpend(s: ChainSession, log: Logger, items: CostItem[]): Promise<CostEstimate> {
  const est = await estimateCost(s, items)
  const line = `estimated cost ${describeCost(est)}`
  if (s.free) log.detail(line)
  else log.step(line)
  if (!s.free && !approved) throw refusal(s, `spending ${describeCost(est).split(':')[0]}`)
  if (est.balance < est.wei)
    throw new ChainError(`insufficient funds: ${est.account} holds ${formatEther(est.balance)} ETH, the estimated cost is ${formatEther(est.wei)} ETH`, {
      where: s.local ? undefined : 'ML2SC_PRIVATE_KEY',
      hint: 'fund the account of ML2SC_PRIVATE_KEY (nothing was spent)',
    })
  return est
}

/** eth_estimateGas of the deploy transaction (exact; a constructor revert shows here). */
export async function estimateDeployGas(s: ChainSession, bytecode: Hex): Promise<CostItem> {
  const padded = await estimateTxGas(s, 'deploy', { data: bytecode })
  return { label: 'deploy', gas: (padded * 10n) / 11n, transactions: 1, exact: true }
}

/**
 * The shared admin library's deployment (once per chain), when it is not on the chain yet; on a chain
 * without the CREATE2 deployment proxy, also the proxy (our funding of its signer: 21,000 gas plus the
 * ETH it needs) and the library estimated as a plain creation plus the proxy's overhead (not exact).
 */
export async function estimateAdminLibraryGas(s: ChainSession): Promise<CostItem[]> {
  const lib = adminLibrary()
  if (((await s.publicClient.getCode({ address: lib.address })) ?? '0x') !== '0x') return []
  const proxy = await proxyPlan(s)
  if (!proxy.needed) {
    const padded = await estimateTxGas(s, ADMIN_DEPLOY_LABEL, adminDeployTx(lib))
    return [{ label: 'admin library (once per chain)', gas: (padded * 10n) / 11n, transactions: 1, exact: true }]
  }
  const created = (await estimateTxGas(s, ADMIN_DEPLOY_LABEL, { data: lib.initcode })) * 10n / 11n
  // through the proxy: the salt's calldata, copying and hashing the initcode (9 gas a word), the call's overhead
  const viaProxy = created + BigInt(calldataGas(lib.salt) + 9 * Math.ceil((lib.initcode.length - 2) / 64) + 3_000)
  return [
    ...(proxy.fund > 0n ? [{ label: 'CREATE2 deployment proxy (once per chain)', gas: 21_000n, transactions: 1, exact: true, value: proxy.fund }] : []),
    { label: 'admin library (once per chain)', gas: viaProxy, transactions: 1, exact: false },
  ]
}

/**
 * Gas of evaluating `rows` rows in batches of `batchRows`: per row the calldata and the SIMD
 * multiply-accumulates (one MUL+ADD per input per lane group) plus activations; per batch the transaction
 * base, reading the weights back and packing them into lane words. A rough model (the measured figure
 * replaces it once the contract is on chain); it errs high.
 */
export function estimateEvaluateGas(plan: Plan, rows: number, batchRows: number): CostItem {
  if (rows <= 0) return { label: 'evaluate', gas: 0n, transactions: 0, exact: false }
  let perRow = 16 * plan.inputSize * plan.inputBytes + 60 + plan.inputSize * 12
  let blobBytes = 0
  for (const [i, l] of plan.layers.entries()) {
    const groups = Math.ceil(l.nOut / l.lanes)
    // unrolled multiply-accumulates cost ~45 gas per SIMD word, looped ones ~120 (measured)
    perRow += l.nIn * groups * (l.nIn * groups <= UNROLL_LIMIT ? 45 : 120) + l.nOut * 40
    perRow += l.nOut * flatActivations(l.activation).reduce((g, a) => g + opOf(a).gas, 0)
    // a graph model's skip, residual sum or concat: built in memory first, an MLOAD (+ ADD) and MSTORE per element
    if (l.input) perRow += l.nIn * 30 * l.input.values.length + (l.input.post ? l.nIn * flatActivations(l.input.post).reduce((g, a) => g + opOf(a).gas, 0) : 0)
    blobBytes += l.nOut * l.nIn * layerWeightBytes(plan, i) + l.nOut * plan.biasBytes
  }
  // a conv graph's residual adds and channel concats (ir/ops/tensorJoin.ts)
  for (const t of plan.tensorLayers ?? []) if (isJoin(t)) perRow += sizeOf(t.outShape) * joinGas(t.kind, t.values.length)
  perRow += plan.outputSize * plan.outputBytes * 16
  const batches = Math.ceil(rows / Math.max(1, batchRows))
  const perBatch = 21_000 + 2_600 * Math.ceil(blobBytes / 24_575) + Math.ceil(blobBytes / 32) * 12 + (blobBytes / plan.weightBytes) * 14 + 5_000
  return { label: 'evaluate', gas: BigInt(Math.round(perRow * rows + perBatch * batches)), transactions: batches, exact: false }
}

/**
 * An explicit batch size that clearly cannot fit under the per-transaction cap is refused before anything
 * is deployed (`run`), and `ml2sc gas` refuses exactly the same sizes.
 */
export function checkBatchFitsCap(plan: Plan, batchRows: number, cap: number): void {
  const perBatch = estimateEvaluateGas(plan, batchRows, batchRows).gas
  if (perBatch <= (BigInt(cap) * 13n) / 10n) return
  const one = estimateEvaluateGas(plan, 1, 1)
  throw new ChainError(`batch.rows ${batchRows} needs about ${perBatch.toLocaleString('en-US')} gas per evaluation transaction, over the per-transaction cap of ${cap.toLocaleString('en-US')}`, {
    where: 'batch.rows',
    hint: `lower batch.rows (about ${Math.max(1, Math.floor((cap * 0.9) / Number(one.gas)))} rows fit) or use auto`,
  })
}

/**
 * The cost items of a pipeline run before anything is sent: deploy (eth_estimateGas, exact; left out when
 * an existing deployment is reused), the weight upload (none when the weights are embedded in the
 * contract's code), and the evaluation of `rows` rows.
 */
export async function estimatePipeline(
  s: ChainSession,
  o: {
    bytecode?: Hex
    runtimeBytes?: number
    abi: Abi
    plan: Plan
    blob: Uint8Array
    chunkSizes: number[]
    embedded: boolean
    rows: number
    batchRows: number | 'auto'
    layout?: string
    uploadFrom?: number
    /** `ml2sc gas`'s figures (the same transactions run on a private anvil): they replace the formulas below. */
    measured?: { upload: number; batchTx: number; measuredRows: number; batchRows: number }
  },
): Promise<CostItem[]> {
  const items: CostItem[] = []
  if (o.bytecode) items.push(...(await estimateAdminLibraryGas(s)), await estimateDeployGas(s, o.bytecode))
  const from = o.uploadFrom ?? 0
  if (!o.embedded && from < o.chunkSizes.length) {
    checkChunksFit(s, o.blob, o.chunkSizes, o.abi, o.layout, from)
    const upload = estimateUploadGas(o.blob, o.chunkSizes, o.abi, { layout: o.layout, from })
    if (o.measured && from === 0) upload.gas = BigInt(o.measured.upload)
    items.push(upload)
  }
  const one = estimateEvaluateGas(o.plan, 1, 1)
  const rowBytes = o.plan.inputSize * o.plan.inputBytes
  const batch = o.batchRows === 'auto' ? Math.max(1, Math.min(Math.floor(96_000 / rowBytes), Math.floor((s.txGasCap * 0.9) / Number(one.gas)))) : o.batchRows
  if (o.batchRows !== 'auto') checkBatchFitsCap(o.plan, batch, s.txGasCap)
  if (o.rows > 0) {
    const mine = estimateEvaluateGas(o.plan, o.rows, batch)
    if (o.measured) {
      const m = o.measured
      mine.gas = BigInt(Math.round((m.batchTx / m.measuredRows) * o.rows))
      mine.transactions = Math.ceil(o.rows / m.batchRows)
    }
    // and the one-row predict transaction the evaluation sends for its all-in gas
    items.push(mine, { label: 'predict (one row)', gas: estimateEvaluateGas(o.plan, 1, 1).gas, transactions: 1, exact: false })
  }
  return items
}
