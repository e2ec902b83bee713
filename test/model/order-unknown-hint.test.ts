// Issue 19: the hint for a model whose layer order ml2sc cannot read fits the model: a recurrent example only
// for a GRU/LSTM (the kind it holds), a linear chain as long as the model's for dense layers, model.source
// alone for attention. Whole-model pickles trained by real PyTorch (test/fixtures/seq).
import { describe, expect, test } from 'bun:test'
import path from 'node:path'
import { Ml2scError } from '../../src/errors/base.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import { FIXTURES } from '../helpers/paths.ts'

async function hintOf(file: string): Promise<string> {
  try {
    await loadModel({ path: path.join(FIXTURES, file) } as Parameters<typeof loadModel>[0])
  } catch (e) {
    if (e instanceof Ml2scError) return e.hint ?? ''
    throw e
  }
  throw new Error(`${file} was read`)
}

describe('the hint when forward() cannot be read', () => {
  test('GRU → [gru, linear]; LSTM → [lstm, linear]', async () => {
    expect(await hintOf('seq/gru_sine/whole.pt')).toContain('[gru, linear]')
    const lstm = await hintOf('seq/lstm_cls/whole.pt')
    expect(lstm).toContain('[lstm, linear]')
    expect(lstm).not.toContain('gru')
  })
  test('attention: model.source only', async () => {
    const h = await hintOf('seq/attn_sine/whole.pt')
    expect(h).toContain('model.source')
    expect(h).not.toMatch(/gru|\[linear/)
  })
  test('an MLP: a linear chain with one linear per Linear layer, no recurrent example', async () => {
    const h = await hintOf('graph/shared_loop_wine/data_loop.script.pt')
    expect(h).toContain('model.source')
    expect(h).toContain('[linear, relu, linear, relu, linear]')
    expect(h).not.toContain('gru')
  })
})
