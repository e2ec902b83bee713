import type { Report } from './buildReport.ts'

const fmt = (x: number) => x.toLocaleString('en-US')

/** The upload row's note: its transactions and gas per parameter, or that nothing was uploaded and why. */
export function uploadNote(r: Report): string {
  if (!r.gas.uploadTransactions) return 'none: the weights went on chain with the deploy (in the contract code), nothing to upload'
  return `${r.gas.uploadTransactions} transaction(s), ${fmt(r.gas.perParameter.upload)} gas per parameter`
}

/** The shared admin library's row, when this run deployed it. */
export const ADMIN_LIBRARY_NOTE = 'once per chain: ownership, uploads and getters for every ml2sc model (this chain did not have it yet)'
