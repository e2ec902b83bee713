import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { Abi, Hex } from 'viem'
import { CompileError } from '../errors/base.ts'
import { compileOnServer } from './solcServer.ts'
import { solcPackageVersion } from '../version.ts'

export type CompiledContract = {
  contractName: string
  abi: Abi
  bytecode: Hex
  deployedBytecode: Hex
  /** Byte ranges of the runtime code that the constructor fills (Solidity immutables); zero in deployedBytecode. */
  immutables: { start: number; length: number }[]
  /** Size of the deployed code (EIP-170 caps it at 24,576; deploying costs 200 gas per byte). */
  runtimeBytes: number
  solcVersion: string
  evmVersion: string
  sourceHash: string
  warnings: string[]
}

/** solc's EVM version for a chain hardfork (solc knows hardforks up to its release). */
export function evmVersionFor(hardfork: string): string {
  const h = hardfork.toLowerCase()
  return ['cancun', 'shanghai', 'paris', 'london', 'berlin', 'osaka', 'prague'].includes(h) ? h : 'prague'
}

let solcModule: { compile(input: string, callbacks?: { import: (p: string) => unknown }): string; version(): string } | undefined
function solc() {
  // solc-js ships soljson.js inside the package: no download, same process. A literal `require` (not
  // createRequire) so that `bun build --compile` bundles it into the binary, still loaded only when used.
  solcModule ??= require('solc')
  return solcModule!
}

/**
 * The full version of the solc-js package this ml2sc was written against, so that `ml2sc --version` need
 * not load solc-js (~1.5 s of CPU) to print it; test/compile/solc-version.test.ts checks it against solc-js.
 */
export const KNOWN_SOLC_VERSION = '0.8.37+commit.f401782d.Emscripten.clang'

/** The bundled compiler's full version, e.g. "0.8.37+commit.f401782d.Emscripten.clang" (loads solc-js unless it is KNOWN_SOLC_VERSION's package). */
export const solcVersion = (): string => (KNOWN_SOLC_VERSION.startsWith(`${solcPackageVersion()}+`) ? KNOWN_SOLC_VERSION : solc().version())

const cache = new Map<string, CompiledContract>()
/** The entries of `cache` that came from ML2SC_COMPILE_CACHE, not from solc in this process. */
const fromDisk = new Set<string>()

/**
 * ML2SC_COMPILE_CACHE=<folder>: solc's results kept on disk, keyed by the solc package's version, the
 * contract's name and the whole standard-JSON input (compiling is deterministic), so that processes
 * compiling the same source (the test suite's files, `gas` then `run`) load solc-js once between them.
 * Entries are written whole (a temporary file renamed into place); an unreadable entry is compiled again.
 */
function diskCachePath(contractName: string, input: unknown): string | undefined {
  const dir = process.env.ML2SC_COMPILE_CACHE
  if (!dir) return undefined
  const key = createHash('sha256').update(`${solcPackageVersion()}\0${contractName}\0${JSON.stringify(input)}`).digest('hex')
  return path.join(dir, `${key}.json`)
}

function readDiskCache(file: string | undefined): CompiledContract | undefined {
  if (!file) return undefined
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as CompiledContract
  } catch {
    return undefined
  }
}

function writeDiskCache(file: string | undefined, result: CompiledContract): void {
  if (!file) return
  try {
    mkdirSync(path.dirname(file), { recursive: true })
    const tmp = `${file}.${process.pid}.tmp`
    writeFileSync(tmp, JSON.stringify(result))
    renameSync(tmp, file)
  } catch {
    // a cache that cannot be written only costs the next process a compile
  }
}

export type OptimizerSettings = { enabled: true; runs: number; details: { yul: false; constantOptimizer?: false } }

/**
 * The optimizer for model contracts (and everything else ml2sc generates but the admin library). The Yul
 * optimizer stays off: it hoists repeated subexpressions of unrolled kernels into stack slots (stack too
 * deep). So does the constant optimizer: it rewrites constants as computations (a NOT, a shift) to save
 * code bytes at a few gas per use, so without it every predict costs the same or less (0.02–4% less on
 * bench/'s models, most on the recurrent ones), deploys cost 0.2–5% more, and solc compiles in well under
 * half the time (most of its time went there).
 */
export const MODEL_OPTIMIZER: OptimizerSettings = { enabled: true, runs: 200, details: { yul: false, constantOptimizer: false } }
/**
 * solc's optimizer steps at their defaults (the constant optimizer on), the Yul optimizer off: the admin
 * library's settings, fixed with its bytes and so its CREATE2 address, and bench's ML2SC baseline layout's
 * (the paper's contracts were built with solc's default steps).
 */
export const SOLC_DEFAULT_OPTIMIZER: OptimizerSettings = { enabled: true, runs: 200, details: { yul: false } }

/**
 * The solc standard-JSON input ml2sc compiles: with it alone (and the compiler version the artifact
 * records) anyone rebuilds the exact bytecode, or verifies the source on Etherscan or Sourcify.
 */
export function solcStandardInput(source: string, file: string, evmVersion: string, optimizer: OptimizerSettings = MODEL_OPTIMIZER) {
  return {
    language: 'Solidity',
    sources: { [file]: { content: source } },
    settings: {
      viaIR: false,
      evmVersion,
      optimizer,
      // no CBOR metadata trailer: 53 bytes of code (~11k gas of deploy) that nothing on chain reads
      metadata: { appendCBOR: false },
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object', 'evm.deployedBytecode.immutableReferences'] } },
    },
  }
}

/** Compile in-process with the legacy pipeline (viaIR off: it is slow or crashes on unrolled code), optimizer on. */
export function compileSolidity(
  source: string,
  contractName: string,
  /** `fresh`: never read ML2SC_COMPILE_CACHE nor ask a solc server (verify compiles with solc itself: neither folder is part of what it trusts). */
  opts: { hardfork?: string; evmVersion?: string; file?: string; findImports?: (p: string) => { contents: string } | { error: string }; fresh?: boolean; optimizer?: OptimizerSettings } = {},
): CompiledContract {
  const evmVersion = opts.evmVersion ?? evmVersionFor(opts.hardfork ?? 'prague')
  const optimizer = opts.optimizer ?? MODEL_OPTIMIZER
  const sourceHash = createHash('sha256').update(source).update(evmVersion).update(JSON.stringify(optimizer)).digest('hex')
  const hit = cache.get(sourceHash)
  if (hit && !(opts.fresh && fromDisk.has(sourceHash))) return hit
  const file = opts.file ?? `${contractName}.sol`
  const input = solcStandardInput(source, file, evmVersion, optimizer)
  const diskFile = opts.findImports || opts.fresh ? undefined : diskCachePath(contractName, input)
  const stored = readDiskCache(diskFile)
  if (stored?.sourceHash === sourceHash) {
    cache.set(sourceHash, stored)
    fromDisk.add(sourceHash)
    return stored
  }
  const inputJson = JSON.stringify(input)
  // a long-lived solc-js process when the test runner started some (no import callback crosses processes;
  // `fresh` compiles here: verify trusts only the solc it loads itself, not whoever answers in a spool folder)
  const remote = opts.findImports || opts.fresh ? undefined : compileOnServer(inputJson)
  const output = JSON.parse(remote?.output ?? solc().compile(inputJson, opts.findImports ? { import: opts.findImports } : undefined)) as {
    errors?: { severity: string; formattedMessage: string; message: string; sourceLocation?: { start: number } }[]
    contracts?: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string }; deployedBytecode: { object: string; immutableReferences?: Record<string, { start: number; length: number }[]> } } }>>
  }
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error')
  if (errors.length) {
    const first = errors[0]!
    const line = first.sourceLocation ? source.slice(0, first.sourceLocation.start).split('\n').length : undefined
    throw new CompileError(`solc rejected the generated contract: ${first.message}`, {
      where: line ? `${file}:${line}` : file,
      hint: 'this is a bug in ml2sc\'s code generator; please report it with the .sol file',
      details: errors.map((e) => e.formattedMessage).join('\n'),
    })
  }
  const c = output.contracts?.[file]?.[contractName]
  if (!c) throw new CompileError(`solc produced no contract named ${contractName}`, { where: file })
  // the ABI comes from the contract's interface (I<Name>) when it has one: the contract itself dispatches in assembly
  const iface = output.contracts?.[file]?.[`I${contractName}`]
  const result: CompiledContract = {
    contractName,
    abi: iface ? [...iface.abi, ...c.abi.filter((x) => x.type === 'constructor')] : c.abi,
    bytecode: `0x${c.evm.bytecode.object}`,
    deployedBytecode: `0x${c.evm.deployedBytecode.object}`,
    immutables: Object.values(c.evm.deployedBytecode.immutableReferences ?? {}).flat().sort((a, b) => a.start - b.start),
    runtimeBytes: c.evm.deployedBytecode.object.length / 2,
    solcVersion: remote?.version ?? solc().version(),
    evmVersion,
    sourceHash,
    warnings: (output.errors ?? []).filter((e) => e.severity === 'warning').map((e) => e.message),
  }
  cache.set(sourceHash, result)
  fromDisk.delete(sourceHash)
  writeDiskCache(diskFile, result)
  return result
}
