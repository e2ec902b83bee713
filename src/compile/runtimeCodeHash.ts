import { keccak256, type Hex } from 'viem'

type Ranges = readonly { start: number; length: number }[]

/** Runtime code with its immutables (the model's deployer) zeroed, as solc's deployedBytecode has them. */
export function zeroImmutables(code: Hex, immutables: Ranges = []): Hex {
  if (!immutables.length) return code
  const bytes = Buffer.from(code.slice(2), 'hex')
  for (const { start, length } of immutables) bytes.fill(0, start, Math.min(start + length, bytes.length))
  return `0x${bytes.toString('hex')}`
}

/** The identity of compiled code: equal for the code on chain and for solc's deployedBytecode, whoever deployed it. */
export const runtimeCodeHash = (code: Hex, immutables: Ranges = []): Hex => keccak256(zeroImmutables(code, immutables))

/**
 * Where `code` (read from a chain) first differs from the compiled contract, immutables zeroed: a byte
 * offset, the shorter length when one is a prefix of the other, or undefined when it is that contract.
 * Bytes inside `ignore` (ranges of the compiled code) may differ.
 */
export function codeDifference(code: Hex | undefined, compiled: { deployedBytecode: Hex; immutables: Ranges }, opts: { ignore?: Ranges } = {}): number | undefined {
  const a = Buffer.from(zeroImmutables(code ?? '0x', compiled.immutables).slice(2), 'hex')
  const b = Buffer.from(compiled.deployedBytecode.slice(2), 'hex')
  const ignored = (i: number) => opts.ignore?.some((r) => i >= r.start && i < r.start + r.length) ?? false
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i] && !ignored(i)) return i
  return a.length === b.length ? undefined : n
}

/**
 * codeDifference over bytes [0, prefix.end) only (a forwarding model's code that an updated model still runs,
 * forwardingModel.ts), `prefix.ignore` allowed to differ; immutables past the prefix are not compared.
 */
export function prefixDifference(code: Hex | undefined, compiled: { deployedBytecode: Hex; immutables: Ranges }, prefix: { end: number; ignore: Ranges }): number | undefined {
  const cut = (h: Hex): Hex => `0x${h.slice(2, 2 + 2 * prefix.end)}`
  return codeDifference(cut(code ?? '0x'), { deployedBytecode: cut(compiled.deployedBytecode), immutables: compiled.immutables.filter((r) => r.start + r.length <= prefix.end) }, { ignore: prefix.ignore })
}

/** Whether `code` (read from a chain) is this compiled contract, whoever deployed it. */
export const isCompiledCode = (code: Hex, compiled: { deployedBytecode: Hex; immutables: Ranges }): boolean => codeDifference(code, compiled) === undefined

/** The value a deployment put in an immutable (the bytes of `code` at that range), as hex. */
export const immutableValue = (code: Hex, range: { start: number; length: number }): Hex => `0x${code.slice(2 + 2 * range.start, 2 + 2 * (range.start + range.length))}`
