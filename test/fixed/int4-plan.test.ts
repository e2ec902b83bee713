// precision.weights: int4 (issue 23): half a byte per weight, weights in [-7, 7] at their layer's scale,
// lanes a multiple of 4 bits apart; the nibble writer of the blob; conv models refuse int4 in one line.
import { describe, expect, test } from 'bun:test'
import { writeBits } from '../../src/codegen/dense/writeInt.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import { resolvePrecision } from '../../src/pipeline/resolvePrecision.ts'
import { NumericsError } from '../../src/errors/base.ts'
import { randomCnns } from '../helpers/randomCnn.ts'
import { randomMlp } from '../helpers/randomMlp.ts'

describe('int4 weights', () => {
  test('the config width resolves to half a byte', () => {
    expect(resolvePrecision({ weights: 'int4', inputs: 'int16', fraction: 12 } as never).weightBytes).toBe(0.5)
  })

  test('a dense plan: every weight in [-7, 7], lanes 4-bit multiples, the largest weight uses the range', () => {
    const plan = makePlan(randomMlp([20, 13, 3], 4), { fraction: 12, weightBytes: 0.5, inputBytes: 2 })
    for (const l of plan.layers) {
      const flat = l.weights.flat()
      expect(flat.every((w) => w >= -7n && w <= 7n)).toBe(true)
      expect(flat.some((w) => w === 7n || w === -7n || w === 4n || w === -4n || w === 5n || w === -5n || w === 6n || w === -6n)).toBe(true)
      expect(l.laneBits % 4).toBe(0)
      expect(l.lanes).toBe(Math.min(Math.floor(256 / l.laneBits), l.nOut))
    }
    // the simulator runs it like any other plan
    expect(simulate(plan, new Array(20).fill(1000n)).length).toBe(3)
  })

  test('nibbles are written big-endian at any 4-bit position, two a byte, neighbours kept', () => {
    const out = new Uint8Array(4)
    writeBits(out, 0, 0x5n, 4)
    writeBits(out, 4, -1n, 4)
    writeBits(out, 8, 0xabcn, 12)
    writeBits(out, 20, 0x3n, 4)
    writeBits(out, 24, -2n, 8)
    expect([...out]).toEqual([0x5f, 0xab, 0xc3, 0xfe])
  })

  test('a convolutional model refuses int4 with one line naming the key', () => {
    const { model } = randomCnns(1, 300)[0]!
    let err: unknown
    try {
      makePlan(model, { fraction: 12, weightBytes: 0.5, inputBytes: 2 })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(NumericsError)
    expect((err as NumericsError).shortMessage).toContain('int4 weights are for dense (Linear) layers only')
    expect((err as NumericsError).where).toBe('precision.weights')
  })
})
