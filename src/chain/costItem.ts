/** One priced step of a run (deploy, upload, evaluate…): its gas, transactions and whether the figure is exact. */
export type CostItem = { label: string; gas: bigint; transactions: number; exact: boolean; value?: bigint }
