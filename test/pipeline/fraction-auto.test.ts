// Issue 23: `precision.fraction: auto` (the default) keeps the widths `weights: auto` chose and tries smaller
// activation scales (chooseFraction.ts). A scale is kept only when it multiplies fewer lane words per row and the
// calibration rows pass the widths' own gate; an explicit number is used as given; plan.json carries the chosen
// scale, and the deployed path (verify, update) rebuilds the same contract from it.
import { describe, expect, test } from 'bun:test'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { generateSolidity } from '../../src/codegen/generateSolidity.ts'
import { encodeWeights } from '../../src/codegen/weights/weightBlob.ts'
import { loadConfig } from '../../src/config/loadConfig.ts'
import { weightWidthsOf } from '../../src/fixed/types.ts'
import { laneWordCount } from '../../src/pipeline/narrowLayers.ts'
import { planFromJson, planToJson } from '../../src/pipeline/planJson.ts'
import { prepareModel } from '../../src/pipeline/prepareModel.ts'
import { FIXTURES } from '../helpers/paths.ts'

const dir = path.join(FIXTURES, 'cnn_mnist28')
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)
const convLanes = (p: { tensorLayers?: { kind: string; lanes?: number }[] }) => p.tensorLayers!.flatMap((l) => (l.kind === 'conv' ? [l.lanes] : []))

async function prepared(precision: string) {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'ml2sc-fraction-')), 'ml2sc.yaml')
  writeFileSync(file, `model:\n  path: ${dir}/model.onnx\ndata:\n  test: ${dir}/test.csv\n  label: label\n  reference: ${dir}/reference.csv\n${precision}`)
  const config = await loadConfig(file)
  const said: string[] = []
  return { config, said, prep: await prepareModel(config, { progress: (w) => said.push(w) }) }
}

describe('precision.fraction: auto', () => {
  test('the MNIST-shaped CNN: the default takes 2^12 (conv2 at 8 lanes, fewer lane words); fraction: 20 keeps 2^20; plan.json rebuilds it', async () => {
    const auto = await prepared('')
    expect(auto.config.precision.fraction).toBe('auto')
    const fixed = await prepared('precision:\n  fraction: 20\n')
    // the same widths either way: the fraction is chosen after them
    expect(weightWidthsOf(auto.prep.plan)).toEqual([1, 1, 2])
    expect(weightWidthsOf(fixed.prep.plan)).toEqual([1, 1, 2])
    expect([auto.prep.plan.F, fixed.prep.plan.F]).toEqual([12, 20])
    expect([convLanes(auto.prep.plan), convLanes(fixed.prep.plan)]).toEqual([[8, 8], [8, 6]])
    expect(sum(laneWordCount(auto.prep.plan))).toBeLessThan(sum(laneWordCount(fixed.prep.plan)))
    // the selection says what it tries; a given number tries nothing
    expect(auto.said.some((w) => w.startsWith('activation scale 2^12'))).toBe(true)
    expect(fixed.said.some((w) => w.startsWith('activation scale'))).toBe(false)
    // plan.json carries 2^12; the deployed path (verify, update) rebuilds the same blob and contract from it
    const back = planFromJson(JSON.parse(JSON.stringify(planToJson(auto.prep.plan))))
    expect(back.F).toBe(12)
    const rebuilt = await prepareModel(auto.config, { deployed: back })
    expect(rebuilt.plan.F).toBe(12)
    expect(encodeWeights(rebuilt.plan)).toEqual(encodeWeights(auto.prep.plan))
    expect(generateSolidity(rebuilt.plan, auto.prep.generate)).toBe(generateSolidity(auto.prep.plan, auto.prep.generate))
  }, 300_000)

  test('a looser tolerance is never dearer: at 3% uniform int8 fails at 2^12, so the widths are chosen again there (the 1% plan), not int8 kept at 2^20', async () => {
    const loose = await prepared('precision:\n  tolerance: 3%\n')
    const tight = await prepared('')
    // int8 everywhere passes at 2^20 (3%), the gate refuses it at 2^12, and the refit there keeps the head at int16
    expect(loose.said.some((w) => w.startsWith('activation scale 2^12 with the widths chosen again there'))).toBe(true)
    expect(loose.prep.plan.F).toBe(12)
    expect(weightWidthsOf(loose.prep.plan)).toEqual([1, 1, 2])
    expect(convLanes(loose.prep.plan)).toEqual([8, 8])
    expect(sum(laneWordCount(loose.prep.plan))).toBeLessThanOrEqual(sum(laneWordCount(tight.prep.plan)))
    // against the 53,312 lane words of uniform int8 at 2^20, which the search kept before it chose again
    expect(sum(laneWordCount(loose.prep.plan))).toBe(40_512)
  }, 300_000)
})
