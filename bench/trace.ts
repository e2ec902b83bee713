// "Where the gas goes": one transaction replayed by the node's default struct logger
// (debug_traceCall, no memory/stack/storage captured) and its gas summed per opcode class.
// The classes add up to the receipt: what the steps do not account for is the intrinsic part
// (21,000 base and calldata, or the EIP-7623 floor when that is higher).
import type { Hex } from 'viem'
import type { ChainSession } from '../src/chain/connectChain.ts'

export type OpClass = 'MUL' | 'ADD/SUB' | 'shift/mask' | 'MLOAD' | 'MSTORE' | 'CALLDATALOAD' | 'PUSH' | 'DUP/SWAP/POP' | 'jumps' | 'code/data copy' | 'storage' | 'other'

export type GasTrace = {
  /** The receipt's gasUsed (equals intrinsic + Σ classes). */
  total: number
  /** 21,000 base and calldata (or the EIP-7623 floor), everything before the first opcode runs. */
  intrinsic: number
  /** Gas per opcode class, memory expansion included in the op that caused it. */
  byClass: Record<OpClass, number>
  /** Gas per opcode name (the 12 largest are enough for a table). */
  byOp: Record<string, number>
  steps: number
}

/** The class an opcode's gas is counted in. */
export function opClass(op: string): OpClass {
  if (op === 'MUL') return 'MUL'
  if (op === 'ADD' || op === 'SUB') return 'ADD/SUB'
  if (['SHR', 'SHL', 'SAR', 'AND', 'OR', 'XOR', 'NOT', 'SIGNEXTEND', 'BYTE'].includes(op)) return 'shift/mask'
  if (op === 'MLOAD') return 'MLOAD'
  if (op === 'MSTORE' || op === 'MSTORE8') return 'MSTORE'
  if (op === 'CALLDATALOAD' || op === 'CALLDATACOPY' || op === 'CALLDATASIZE') return 'CALLDATALOAD'
  if (op.startsWith('PUSH')) return 'PUSH'
  if (op.startsWith('DUP') || op.startsWith('SWAP') || op === 'POP') return 'DUP/SWAP/POP'
  if (op === 'JUMP' || op === 'JUMPI' || op === 'JUMPDEST') return 'jumps'
  if (['CODECOPY', 'EXTCODECOPY', 'EXTCODESIZE', 'MCOPY', 'RETURNDATACOPY'].includes(op)) return 'code/data copy'
  if (op === 'SLOAD' || op === 'SSTORE' || op === 'TLOAD' || op === 'TSTORE') return 'storage'
  return 'other'
}

const CLASSES: OpClass[] = ['MUL', 'ADD/SUB', 'shift/mask', 'MLOAD', 'MSTORE', 'CALLDATALOAD', 'PUSH', 'DUP/SWAP/POP', 'jumps', 'code/data copy', 'storage', 'other']

type StructLog = { op: string; gas: number; gasCost: number; depth: number }

/** Aggregate a struct-logger trace (top-level frame only: predict makes no calls) of a mined transaction. */
export function aggregateTrace(logs: StructLog[], gasUsed: number): GasTrace {
  const byClass = Object.fromEntries(CLASSES.map((c) => [c, 0])) as Record<OpClass, number>
  const byOp: Record<string, number> = {}
  let exec = 0
  for (let i = 0; i < logs.length; i++) {
    const l = logs[i]!
    if (l.depth !== 1) continue
    // a call's gasCost includes what it forwards; charge what the frame really lost (next step's gas)
    const next = logs.slice(i + 1).find((n) => n.depth === 1)
    const cost = /CALL|CREATE/.test(l.op) && next ? l.gas - next.gas : l.gasCost
    exec += cost
    byClass[opClass(l.op)] += cost
    byOp[l.op] = (byOp[l.op] ?? 0) + cost
  }
  return { total: gasUsed, intrinsic: gasUsed - exec, byClass, byOp, steps: logs.length }
}

/**
 * Replay a mined transaction with the default struct logger and aggregate its gas. Anvil records steps for
 * mined transactions only with --steps-tracing, so the same call is re-executed by debug_traceCall on the
 * block before it (predict reads no state it writes: the replay's gas is the receipt's, which is checked).
 */
export async function traceGas(s: ChainSession, hash: Hex): Promise<GasTrace> {
  const tx = await s.publicClient.getTransaction({ hash })
  const receipt = await s.publicClient.getTransactionReceipt({ hash })
  const call = { from: tx.from, to: tx.to, data: tx.input, gas: `0x${tx.gas.toString(16)}`, value: `0x${tx.value.toString(16)}` }
  // a plain POST, not viem's client: the trace of a big model is tens of MB, over viem's 10 MB response limit
  const res = await fetch(s.rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'debug_traceCall', params: [call, `0x${(receipt.blockNumber - 1n).toString(16)}`, { disableStack: true, disableMemory: true, disableStorage: true, enableReturnData: false }] }),
  })
  const body = (await res.json()) as { result?: { gas: number; structLogs: StructLog[] }; error?: { message: string } }
  if (!body.result) throw new Error(`debug_traceCall of ${hash}: ${body.error?.message ?? res.statusText}`)
  const r = body.result
  const t = aggregateTrace(r.structLogs, Number(receipt.gasUsed))
  if (r.structLogs.length === 0 || r.gas !== t.total) throw new Error(`trace of ${hash}: ${r.structLogs.length} steps, ${r.gas} gas against the receipt's ${t.total}`)
  return t
}

const n = (x: number) => x.toLocaleString('en-US')

/** The "where the gas goes" section: one column per traced predict, one row per opcode class. */
export function traceSection(traces: { name: string; trace: GasTrace }[]): string[] {
  if (traces.length === 0) return []
  const pct = (x: number, t: GasTrace) => `${n(x)} (${Math.round((100 * x) / t.total)}%)`
  return [
    '## Where the gas goes',
    '',
    'One predict transaction per model, replayed by anvil\'s default struct logger (`debug_traceCall` on the',
    'block before it; the replay\'s gas is checked equal to the receipt\'s),',
    'its gas summed per opcode class (memory expansion counted in the opcode that caused it). Intrinsic is the',
    '21,000 base plus calldata (or the EIP-7623 floor); the rows add up to the receipt.',
    '',
    `| opcode class | ${traces.map((t) => t.name).join(' | ')} |`,
    `|---|${traces.map(() => '---').join('|')}|`,
    `| intrinsic (base + calldata) | ${traces.map((t) => pct(t.trace.intrinsic, t.trace)).join(' | ')} |`,
    ...CLASSES.filter((c) => traces.some((t) => t.trace.byClass[c] > 0)).map((c) => `| ${c} | ${traces.map((t) => pct(t.trace.byClass[c], t.trace)).join(' | ')} |`),
    `| **receipt** | ${traces.map((t) => `**${n(t.trace.total)}**`).join(' | ')} |`,
    `| steps | ${traces.map((t) => n(t.trace.steps)).join(' | ')} |`,
    '',
  ]
}
