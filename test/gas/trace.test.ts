// bench/trace.ts: "where the gas goes" from a struct-logger replay of one predict; the classes add up to
// the receipt and the intrinsic part is exactly the base plus the calldata's cost.
import { describe, expect, test } from 'bun:test'
import path from 'node:path'
import { hexToBytes } from 'viem'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { ensureAdminLibrary } from '../../src/chain/ensureAdminLibrary.ts'
import { readAllRows } from '../../src/data/readCsv.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import { measureOurs } from '../../bench/measure.ts'
import { aggregateTrace, opClass, traceGas, traceSection } from '../../bench/trace.ts'
import { ANCHORS } from '../helpers/paths.ts'
import { fileChain } from '../helpers/fileChain.ts'

let s: ChainSession
fileChain((c) => (s = c))

describe('opcode trace of one predict', () => {
  test('30-4-1: classes + intrinsic = receipt; intrinsic = 21,000 + calldata', async () => {
    await ensureAdminLibrary(s)
    const data = await readAllRows(path.join(ANCHORS, 'processed_data.csv'), { label: 'diagnosis', drop: ['id'], limit: 10 })
    const model = await loadModel({ path: path.join(ANCHORS, 'weights/MLP_2L4.json'), source: path.join(ANCHORS, 'models.py'), class: 'MLP_2L4' })
    const m = await measureOurs(s, '30-4-1', model, data.features, 10)
    const t = await traceGas(s, m.predictHash!)
    expect(t.total).toBe(m.predictSingle)
    expect(t.intrinsic + Object.values(t.byClass).reduce((a, b) => a + b, 0)).toBe(t.total)
    const input = hexToBytes((await s.publicClient.getTransaction({ hash: m.predictHash! })).input)
    const zeros = input.filter((b) => b === 0).length
    const tokens = zeros + 4 * (input.length - zeros)
    // above the EIP-7623 floor (execution outweighs 6 gas per token here), intrinsic is the standard charge
    expect(t.total).toBeGreaterThan(21_000 + 10 * tokens)
    expect(t.intrinsic).toBe(21_000 + 4 * tokens)
    // an MLP predict multiplies (one MUL per lane word) and reads memory
    expect(t.byClass.MUL).toBeGreaterThan(0)
    expect(t.byClass.MLOAD).toBeGreaterThan(0)
    expect(t.steps).toBeGreaterThan(100)
    const md = traceSection([{ name: '30-4-1', trace: t }]).join('\n')
    expect(md).toContain(`**${t.total.toLocaleString('en-US')}**`)
  })

  test('a call frame is charged what it really cost the caller, not the gas it forwarded', () => {
    const t = aggregateTrace(
      [
        { op: 'PUSH1', gas: 1000, gasCost: 3, depth: 1 },
        { op: 'STATICCALL', gas: 997, gasCost: 900, depth: 1 },
        { op: 'MUL', gas: 800, gasCost: 5, depth: 2 },
        { op: 'RETURN', gas: 795, gasCost: 0, depth: 2 },
        { op: 'POP', gas: 897, gasCost: 2, depth: 1 },
        { op: 'STOP', gas: 895, gasCost: 0, depth: 1 },
      ],
      21_105,
    )
    expect(t.byOp.STATICCALL).toBe(100)
    expect(t.intrinsic).toBe(21_000)
    expect(opClass('PUSH32')).toBe('PUSH')
    expect(opClass('SIGNEXTEND')).toBe('shift/mask')
  })
})
