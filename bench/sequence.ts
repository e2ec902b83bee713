// The sequence models of issue 20 in `npm run bench`: PyTorch-made GRU and LSTM fixtures
// (scripts/make-sequence-fixtures.py) at the default config, datacontract layout, on their own test rows.
import path from 'node:path'
import type { ChainSession } from '../src/chain/connectChain.ts'
import { readAllRows } from '../src/data/readCsv.ts'
import { loadModel } from '../src/model/loadModel.ts'
import type { ModelIR } from '../src/ir/types.ts'
import { measureOurs, type Measurement } from './measure.ts'

const SEQ = path.resolve(import.meta.dir, '../test/fixtures/seq')

/** name, fixture, window, label: the GRU forecaster of the target (GRU(1→16)×16 + Linear(16→1)), a 2-layer LSTM, a bidirectional GRU. */
export const SEQUENCE_MODELS = [
  { name: 'GRU(1→16)×16 → 1', dir: 'gru_sine', shape: [16, 1], label: 'next' },
  { name: '2-layer LSTM(1→8)×16 → 128 → 1', dir: 'lstm2_sine', shape: [16, 1], label: 'next' },
  { name: 'bi-GRU(2→8)×10 → 16 → 3', dir: 'gru_bi_cls', shape: [10, 2], label: 'label' },
] as const

export async function sequenceModel(which: (typeof SEQUENCE_MODELS)[number]): Promise<{ model: ModelIR; rows: number[][] }> {
  const dir = path.join(SEQ, which.dir)
  const model = await loadModel({ path: path.join(dir, 'state_dict.pt'), source: path.join(dir, 'model.py'), inputShape: [...which.shape] })
  const rows = (await readAllRows(path.join(dir, 'test.csv'), { label: which.label })).features
  return { model, rows }
}

/** One row per sequence model; `traced` gets each one-predict transaction (bench/trace.ts). */
export async function measureSequences(s: ChainSession, traced: (label: string, m: Measurement) => Promise<void>): Promise<Measurement[]> {
  const out: Measurement[] = []
  for (const w of SEQUENCE_MODELS) {
    const { model, rows } = await sequenceModel(w)
    const m = await measureOurs(s, w.name, model, rows, 10)
    out.push(m)
    await traced(w.name, m)
  }
  return out
}

/** The bench's sequence section: gas per predict and per time step ((one predict − 21,000) / T). */
export function sequenceSection(rows: Measurement[]): string[] {
  if (!rows.length) return []
  const n = (x: number) => x.toLocaleString('en-US')
  return [
    '## Sequence models (GRU / LSTM, issue 20)',
    '',
    'PyTorch-made fixtures (test/fixtures/seq), default config, `datacontract` layout, their own test rows; outputs equal the simulator.',
    '',
    '| model | params | runtime bytes | deploy | upload | one predict | per time step | per row (10-row batch) | sim mismatches |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => {
      const T = SEQUENCE_MODELS.find((w) => w.name === r.name)!.shape[0]
      return `| ${r.name} | ${n(r.parameters)} | ${n(r.runtimeBytes)} | ${n(r.deploy)} | ${n(r.upload)} | ${n(r.predictSingle)} | ${n(Math.round((r.predictSingle - 21_000) / T))} | ${n(r.gasPerRow)} | ${r.mismatches ?? '–'} |`
    }),
    '',
    '"per time step" is (one predict − the 21,000 base) / T: calldata and the Linear head are included.',
    '',
  ]
}
