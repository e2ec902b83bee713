import { keccak256, toBytes } from 'viem'

/**
 * One row for `predict`: its packed features in ⌈rowBytes/32⌉ words, zero-padded at the end. A fixed-size
 * array sits in the call data without an offset or a length word (64 bytes, ~280 gas, less than `bytes`),
 * so the signature (and selector) follows the model's row size.
 */
export const predictSignature = (rowBytes: number) => `function predict(bytes32[${Math.ceil(rowBytes / 32)}] calldata row) external view returns (int256[] memory outputs)`

/** The model contract's interface (with predictSignature): written once, used for the Solidity interface, the selectors and viem's ABI. */
export const FUNCTIONS = {
  predictBatch: 'function predictBatch(bytes calldata rows) external returns (bytes memory outputs)',
  writeChunk: 'function writeChunk(uint256 index, bytes calldata data, bytes32 commitment) external',
  commitment: 'function commitment() external view returns (bytes32)',
  version: 'function version() external view returns (uint64)',
  ready: 'function ready() external view returns (bool)',
  chunksWritten: 'function chunksWritten() external view returns (uint256)',
  chunkAddress: 'function chunkAddress(uint256 index) external view returns (address)',
  info: 'function info() external view returns (uint256 inputs, uint256 outputs, uint256 scale, uint256 rowBytes, uint256 outputBytes, uint256 chunks)',
  owner: 'function owner() external view returns (address)',
  pendingOwner: 'function pendingOwner() external view returns (address)',
  transferOwnership: 'function transferOwnership(address newOwner) external',
  acceptOwnership: 'function acceptOwnership() external',
} as const

export const ERRORS = {
  NotOwner: 'error NotOwner(address caller)',
  NotPendingOwner: 'error NotPendingOwner(address caller)',
  NotReady: 'error NotReady()',
  ChunkOutOfOrder: 'error ChunkOutOfOrder(uint256 index, uint256 expected)',
  BadChunkLength: 'error BadChunkLength(uint256 index, uint256 length, uint256 expected)',
  DataDeployFailed: 'error DataDeployFailed(uint256 index)',
  BadInputLength: 'error BadInputLength(uint256 length, uint256 rowBytes)',
  BadCalldata: 'error BadCalldata()',
  UnknownFunction: 'error UnknownFunction(bytes4 selector)',
  Immutable: 'error Immutable()',
  CommitmentMismatch: 'error CommitmentMismatch(bytes32 expected, bytes32 actual)',
  UploadInterleaved: 'error UploadInterleaved(bytes4 started, bytes4 given)',
  AdminLibraryMissing: 'error AdminLibraryMissing(address admin)',
  UnexpectedValue: 'error UnexpectedValue(uint256 value)',
  UpdateNotMarked: 'error UpdateNotMarked()',
  VersionOverflow: 'error VersionOverflow(uint256 version)',
} as const

export const EVENTS = {
  ModelUpdated: 'event ModelUpdated(uint64 version, bytes32 commitment)',
  // anonymous (LOG0, no topic): 33 bytes less code and 375 gas less per batch; only predictBatch of this
  // contract emits a topicless log, so a batch's outputs are the receipt's topicless log from the model
  Predictions: 'event Predictions(bytes outputs) anonymous',
  OwnershipTransferStarted: 'event OwnershipTransferStarted(address indexed previousOwner, address indexed newOwner)',
  OwnershipTransferred: 'event OwnershipTransferred(address indexed previousOwner, address indexed newOwner)',
} as const

/** `function f(uint256 a, bytes calldata b) …` → `f(uint256,bytes)` */
export function canonical(sig: string): string {
  const m = /^(?:function|error|event)\s+(\w+)\s*\(([^)]*)\)/.exec(sig)!
  const types = m[2]!.split(',').map((p) => p.trim().split(/\s+/)[0]).filter(Boolean)
  return `${m[1]}(${types.join(',')})`
}

export const selectorOf = (sig: string) => keccak256(toBytes(canonical(sig))).slice(0, 10)
export const topicOf = (sig: string) => keccak256(toBytes(canonical(sig)))
