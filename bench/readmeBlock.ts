// The README's benchmark block (ML2SC's 30-4-1 table, the bigger models, issue 13's targets), written by
// `npm run bench` between the README's `<!-- bench -->` markers from the figures it just measured.
import type { Measurement } from './measure.ts'

const START = '<!-- bench: written by `npm run bench` (bench/readmeBlock.ts); edit there -->'
const END = '<!-- /bench -->'

const n = (x: number | null | undefined) => (x === null || x === undefined ? '–' : x.toLocaleString('en-US'))
const ratio = (a: number, b: number) => `${(a / b).toFixed(1)}×`

/** The block's markdown, from the bench's measurements and the admin library's deploy gas. */
export function readmeBlock(results: Measurement[], adminGas: number, cap: number): string {
  const anchor = (layout: string) => results.find((r) => r.layout === layout && r.name.startsWith('ML2SC'))!
  const base = anchor('ml2sc')
  const ours = anchor('datacontract')
  const code = anchor('code')
  const storage = anchor('storage')
  const mlp = results.find((r) => r.name === '64-128-64-32-10')!
  const mnist = results.find((r) => r.name === '784-128-10')!
  const total = (r: Measurement) => r.deploy + r.upload
  return [
    START,
    '| 30-4-1 | deploy + weights | one predict tx | per row (50-row batch) | later weight update |',
    '|---|---|---|---|---|',
    '| ML2SC published | 5,393,909 | – | 344,319 | – |',
    '| ML2SC re-measured (solc 0.8.37, optimizer on) | 4,759,876 | – | 262,243 | – |',
    `| ML2SC-style baseline, same run (\`ml2sc\` layout) | ${n(total(base))} | ${n(base.predictSingle)} | ${n(base.gasPerRow)} | – |`,
    `| **ml2sc \`datacontract\` (default)** | **${n(total(ours))}** (${ratio(total(base), total(ours))} less) | **${n(ours.predictSingle)}** | **${n(ours.gasPerRow)}** (${Math.round(base.gasPerRow / ours.gasPerRow)}× less) | **${n(ours.update)}** |`,
    `| ml2sc \`code\` (immutable) | ${n(total(code))} | ${n(code.predictSingle)} | ${n(code.gasPerRow)} | – |`,
    `| ml2sc \`storage\` | ${n(total(storage))} | ${n(storage.predictSingle)} | ${n(storage.gasPerRow)} | ${n(storage.update)} |`,
    '',
    'Model contracts hold only inference. Ownership, uploads, updates and getters live in ml2sc\'s shared',
    `admin library, which every model DELEGATECALLs: it is deployed once per chain (${n(adminGas)} gas, through the`,
    'CREATE2 deployment proxy) and is not in the figures above; the first model on a fresh chain pays it too',
    `(${n(total(ours) + adminGas)} for 30-4-1). The update figure is a model's first update, which also writes its state word`,
    'for the first time.',
    '',
    `Bigger models fit in one transaction: 64-128-64-32-10 (${n(mlp.parameters)} parameters) answers one predict in`,
    `${n(mlp.predictSingle)} gas after uploading at ${n(Math.round(mlp.upload / mlp.parameters))} gas per parameter; 784-128-10 (${n(mnist.parameters)} parameters, MNIST-sized)`,
    `uploads in ${mnist.uploadTxs} transactions and answers one predict in ${n(mnist.predictSingle)} gas (${n(mnist.gasPerRow)} per row in a batch),`,
    `1/${Math.floor(cap / mnist.predictSingle)} of the ${n(cap)} cap. These are the default config (\`precision\` auto: int8 weights for`,
    'these ReLU/identity classifiers, 16-bit inputs), as `ml2sc run` resolves it.',
    '',
    "Issue 13's targets at the default config (bench above; every row's class is PyTorch's):",
    '',
    '| target | measured | aim | floor we believe remains |',
    '|---|---|---|---|',
    `| 30-4-1, per row in a 50-row batch | **${n(ours.gasPerRow)}** | ≤ 3,300 | ~2,900: 16-bit calldata (~940) and the base share (420) are fixed; the rest is ~30 MLOAD+MUL lane words, 4 unpacks and the sigmoid |`,
    `| 30-4-1, one predict | **${n(ours.predictSingle)}** (\`code\` layout: ${n(code.predictSingle)}) | ≤ 26,000 | ~25,000: 21,000 base and ~1,000 calldata (a \`bytes32[2]\` row) are fixed; no state read while the model was never updated (the update mark); the rest is the once-per-transaction lane-word pass over the compact weights (~2,000: unrolling it would cost ~45 bytes of code) and the kernel (~1,500, of which the sigmoid 231) |`,
    `| 30-4-1, deploy + upload | **${n(total(ours))}** | ≤ 450,000 | ~430,000: ${n(ours.runtimeBytes)} bytes of code at ~216 gas each, of which 301 are the weights; looping the 30 MACs would trade ~250 gas per row for ~170 bytes |`,
    `| 64-128-64-32-10, one predict | **${n(mlp.predictSingle)}** | ≤ 250,000 | ~120,000 (int8 weights, 5–6 lanes; ~30 gas per lane word) |`,
    `| 784-128-10, one predict | **${n(mnist.predictSingle)}** | ≤ 1,000,000 | ~450,000 (20k lane words at ~20 gas; 5 cold chunk reads and the address table ~16k) |`,
    END,
  ].join('\n')
}

/** `readme` with its block replaced (the markers must be there once each). */
export function withReadmeBlock(readme: string, block: string): string {
  const a = readme.indexOf(START)
  const b = readme.indexOf(END)
  if (a < 0 || b < a) throw new Error(`README.md has no bench block: put ${START} … ${END} around it`)
  return readme.slice(0, a) + block + readme.slice(b + END.length)
}
