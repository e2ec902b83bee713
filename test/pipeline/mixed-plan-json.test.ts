// Issue 23 (mixed precision): a CNN plan with per-layer widths survives plan.json (each conv and Linear layer
// keeps its width), and the plan `update`/`verify` rebuild from it (prepareModel's deployed path: the widths
// from plan.json, the scales and lanes pinned) gives the same blob and the same contract.
import { describe, expect, test } from 'bun:test'
import path from 'node:path'
import { generateSolidity } from '../../src/codegen/generateSolidity.ts'
import { encodeWeights } from '../../src/codegen/weights/weightBlob.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { pinOf, weightWidthsOf } from '../../src/fixed/types.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import { planFromJson, planToJson } from '../../src/pipeline/planJson.ts'
import { FIXTURES } from '../helpers/paths.ts'

describe('per-layer widths in plan.json', () => {
  test('the MNIST-shaped CNN at int8/int8/int16: round trip, rebuilt plan, same blob and code; another width is another blob', async () => {
    const model = await loadModel({ path: path.join(FIXTURES, 'cnn_mnist28', 'model.onnx') })
    const spec = { fraction: 20, weightBytes: 2, layerWeightBytes: [1, 1, 2], inputBytes: 2, inputFraction: 15, inputUnsigned: true }
    const plan = makePlan(model, spec)
    const back = planFromJson(JSON.parse(JSON.stringify(planToJson(plan))))
    expect(weightWidthsOf(back)).toEqual([1, 1, 2])
    expect(back.tensorLayers!.flatMap((t) => (t.kind === 'conv' ? [t.weightBytes] : []))).toEqual([1, 1])
    // the deployed path: widths from plan.json, every scale and lane pinned
    const rebuilt = makePlan(model, { fraction: back.F, weightBytes: back.weightBytes, layerWeightBytes: weightWidthsOf(back), inputBytes: back.inputBytes, inputFraction: back.inputFraction, inputUnsigned: back.inputUnsigned }, pinOf(back))
    expect(encodeWeights(rebuilt)).toEqual(encodeWeights(plan))
    const opts = { contractName: 'Mixed' }
    expect(generateSolidity(rebuilt, opts)).toBe(generateSolidity(plan, opts))
    // a forged width: the convs' int8 packets are another blob (and the code's masks differ)
    const forged = makePlan(model, { ...spec, layerWeightBytes: [1, 2, 2] })
    expect(encodeWeights(forged)).not.toEqual(encodeWeights(plan))
    expect(generateSolidity(forged, opts)).not.toBe(generateSolidity(plan, opts))
    // int8 convs store fewer bytes than int16 ones (8,714 against 12,242: packets pad to the lanes)
    expect(encodeWeights(plan).length).toBeLessThan(encodeWeights(makePlan(model, { ...spec, layerWeightBytes: undefined })).length * 0.75)
  })
})
