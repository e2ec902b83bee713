// Issue 23 (mixed precision): narrowLayers, the per-layer step of `precision: auto`, with a gate of the test's
// own: the layers are tried in order of their lane words per row, each narrowed one width at a time while the
// gate holds and the plan gets cheaper; a refused width ends that layer's tries; the result always passes the gate.
import { describe, expect, test } from 'bun:test'
import { blobLayout } from '../../src/codegen/weights/weightBlob.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { weightWidthsOf, type Plan } from '../../src/fixed/types.ts'
import { laneWordCount, narrowLayers } from '../../src/pipeline/narrowLayers.ts'
import { rng } from '../helpers/rng.ts'
import { A, chain } from '../helpers/syntheticModels.ts'

const model = chain(rng(9), [40, 24, 12, 3], [A.relu, A.relu, A.identity])
const spec = { fraction: 12, weightBytes: 2, inputBytes: 2, inputFraction: 10 }
const uniform = makePlan(model, spec)

function run(holds: (p: Plan) => boolean) {
  const seen: number[][] = []
  const r = narrowLayers(model, spec, uniform, { dense: [0.5, 1, 2, 3], conv: [1, 2, 3], holds: (p) => (seen.push(weightWidthsOf(p)), holds(p)) })
  return { ...r, seen, widths: weightWidthsOf(r.plan) }
}

describe('narrowLayers', () => {
  test('the layer with the most lane words first, one width at a time; a refused width ends its tries', () => {
    expect(laneWordCount(uniform)[0]).toBeGreaterThan(laneWordCount(uniform)[1]!)
    // the gate: layer 0 may go to int8 but not int4, layer 1 to int4, layer 2 must stay int16
    const ok = (w: number[]) => w[0]! >= 1 && w[2]! >= 2
    const r = run((p) => ok(weightWidthsOf(p)))
    expect(r.widths).toEqual([1, 0.5, 2])
    expect(r.seen[0]).toEqual([1, 2, 2])
    expect(r.seen[1]).toEqual([0.5, 2, 2])
    // one pass per try: 2 for layer 0 (int8 kept, int4 refused), 2 for layer 1 (both kept), 1 for layer 2 (refused)
    expect(r.tried).toBe(5)
    expect(r.seen.length).toBe(5)
    expect(ok(r.widths)).toBe(true)
  })

  test('a gate that refuses every narrowing keeps the uniform plan; every narrowing stores fewer bytes', () => {
    const r = run(() => false)
    expect(r.plan).toBe(uniform)
    expect(r.tried).toBe(3)
    const all = run(() => true)
    expect(all.widths).toEqual([0.5, 0.5, 0.5])
    // int4 everywhere is a uniform plan again: no per-layer fields, a quarter of the int16 blob's weight bytes
    expect(all.plan.weightBytes).toBe(0.5)
    expect(all.plan.layers.every((l) => l.weightBytes === undefined)).toBe(true)
    expect(blobLayout(all.plan).length).toBeLessThan(blobLayout(uniform).length / 2)
  })
})
