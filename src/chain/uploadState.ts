import { readFileSync } from 'node:fs'
import path from 'node:path'
import type { Hex } from 'viem'
import { writeAtomic } from '../files/writeAtomic.ts'
import { ML2SC_VERSION } from '../version.ts'

/** The upload state file, in the output folder beside deployment.json. */
export const UPLOAD_STATE_FILE = 'upload-state.json'

export type ChunkTx = { index: number; hash: Hex; gasUsed: number }

/**
 * What a weight upload has confirmed so far, written (atomically) after every confirmed chunk and before
 * every broadcast (`pending`), so that a run killed at any point resumes without sending a confirmed
 * chunk again. The chain has the last word: `chunksWritten()` is checked against this file on resume.
 */
export type UploadState = {
  kind: 'ml2sc/upload-state'
  ml2sc: string
  chainId: number
  /** The model contract being written. */
  address: Hex
  /** Commitment of the weights being uploaded (keccak256 of the canonical encoding). */
  commitment: Hex
  chunkSizes: number[]
  /** Confirmed chunks, in index order: one transaction each. */
  chunks: ChunkTx[]
  /** A chunk transaction signed and broadcast (or about to be) but not yet confirmed. */
  pending: { index: number; hash: Hex } | null
  /** Every chunk transaction broadcast and not yet confirmed (uploads are pipelined: several at once). */
  inFlight?: { index: number; hash: Hex }[]
  complete: boolean
  updatedAt: string
}

export const uploadStatePath = (dir: string) => path.join(dir, UPLOAD_STATE_FILE)

/** The state file's contents, or undefined when it is missing or unreadable (an upload then starts over). */
export function readUploadState(file: string): UploadState | undefined {
  try {
    const st = JSON.parse(readFileSync(file, 'utf8')) as UploadState
    if (st?.kind !== 'ml2sc/upload-state' || !Array.isArray(st.chunks) || typeof st.address !== 'string') return undefined
    return st
  } catch {
    return undefined
  }
}

export async function writeUploadState(file: string, st: UploadState): Promise<void> {
  await writeAtomic(file, JSON.stringify({ ...st, ml2sc: ML2SC_VERSION, updatedAt: new Date().toISOString() }, null, 2) + '\n')
}

export function freshUploadState(chainId: number, address: Hex, commitment: Hex, chunkSizes: number[]): UploadState {
  return { kind: 'ml2sc/upload-state', ml2sc: ML2SC_VERSION, chainId, address, commitment, chunkSizes, chunks: [], pending: null, complete: false, updatedAt: new Date().toISOString() }
}
