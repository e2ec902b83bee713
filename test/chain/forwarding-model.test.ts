// The forwarding model (generateSolidity `forward: true`, forwardingModel.ts) on a real anvil: the initial
// weights as PUSH-constant lane words, an update as a kernel contract that predict DELEGATECALLs. Every
// answer equals the bit-exact simulator, before and after the update; the update's commitment is checked
// on chain; and the code an updated model still runs (everything before its initial kernel) is the same
// for any weights, which is what lets a verify of an updated model compare it with a fresh compile.
import { describe, expect, test } from 'bun:test'
import path from 'node:path'
import { encodeFunctionData, parseEventLogs, toHex, type Abi, type Hex } from 'viem'
import type { ChainSession } from '../../src/chain/connectChain.ts'
import { deployModel } from '../../src/chain/deployModel.ts'
import { predictBatchTx, predictSingle } from '../../src/chain/evaluateOnChain.ts'
import { readView } from '../../src/chain/modelState.ts'
import { sendTx } from '../../src/chain/sendTx.ts'
import { uploadWeights } from '../../src/chain/uploadWeights.ts'
import { generateSolidity } from '../../src/codegen/generateSolidity.ts'
import { commitmentWord, forwardingPrefix, opcodesOf } from '../../src/codegen/forwarding/forwardingModel.ts'
import { commitmentOf, encodeWeights } from '../../src/codegen/weights/weightBlob.ts'
import { compileSolidity } from '../../src/compile/compileSolidity.ts'
import { readAllRows } from '../../src/data/readCsv.ts'
import { encodeRow } from '../../src/fixed/encodeRows.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { simulate } from '../../src/fixed/simulate.ts'
import { specOf, type Plan } from '../../src/fixed/types.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import { updatePayload } from '../../src/pipeline/updatePayload.ts'
import { benchPlan } from '../../bench/measure.ts'
import { ANCHORS } from '../helpers/paths.ts'
import { fileChain } from '../helpers/fileChain.ts'
import type { ModelIR } from '../../src/ir/types.ts'
import { randomMlp } from '../helpers/randomMlp.ts'

let s: ChainSession
fileChain((c) => (s = c))

const gen = { contractName: 'Fw', layout: 'datacontract' as const, forward: true }
const rowsOf = (plan: Plan, features: number[][]) => features.map((r) => {
  const e = encodeRow(plan, r)
  if (!e.ok) throw new Error(e.error)
  return e.values
})
/** The same architecture, other weights: every weight and bias scaled by 0.8 and shifted a little. */
const retrained = (m: ModelIR): ModelIR => ({ ...m, layers: m.layers.map((l, k) => ({ ...l, weight: l.weight.map((r, i) => r.map((w, j) => 0.8 * w + 0.01 * Math.sin(7 * i + 3 * j + k))), bias: l.bias.map((b) => 0.8 * b) })) })

const opcodes = opcodesOf

describe('forwarding model, ML2SC 30-4-1', () => {
  let plan: Plan
  let plan2: Plan
  let features: number[][]
  let model: ModelIR
  test('initial weights: predict and predictBatch equal the simulator; commitment() is the blob\'s; an update with new weights runs them bit-exactly through the kernel contract', async () => {
    const data = await readAllRows(path.join(ANCHORS, 'processed_data.csv'), { label: 'diagnosis', drop: ['id'], limit: 20 })
    features = data.features
    model = await loadModel({ path: path.join(ANCHORS, 'weights/MLP_2L4.json'), source: path.join(ANCHORS, 'models.py'), class: 'MLP_2L4' })
    plan = benchPlan(model, features, undefined, 'datacontract', true)
    const c = compileSolidity(generateSolidity(plan, gen), 'Fw')
    const abi = c.abi as Abi
    const { address, tx } = await deployModel(s, c.bytecode, abi)
    expect(tx.gasUsed).toBeLessThanOrEqual(429_631)
    const q = rowsOf(plan, features)
    const batch = await predictBatchTx(s, address, abi, plan, q, 'batch')
    expect(batch.outputs).toEqual(q.map((r) => simulate(plan, r)))
    expect((await predictSingle(s, address, abi, plan, q[3]!)).outputs).toEqual(simulate(plan, q[3]!))
    expect(await readView<Hex>(s, address, abi, 'commitment')).toBe(commitmentOf(encodeWeights(plan)))
    expect(await readView<bigint>(s, address, abi, 'version')).toBe(1n)

    // wei forced in without an update (as a SELFDESTRUCT could): the state word names no kernel, so the
    // model still answers from its own code, and the getters agree
    await s.publicClient.request({ method: 'anvil_setBalance' as never, params: [address, '0x1'] as never })
    expect((await predictSingle(s, address, abi, plan, q[0]!)).outputs).toEqual(simulate(plan, q[0]!))
    expect(await readView<Hex>(s, address, abi, 'commitment')).toBe(commitmentOf(encodeWeights(plan)))

    // the update: a kernel contract compiled for the new weights, runtime code ++ blob, one writeChunk
    plan2 = makePlan(retrained(model), specOf(plan))
    const next = updatePayload(plan2, gen)
    expect(next.sizes).toEqual([next.data.length])
    expect(next.commitment).toBe(commitmentOf(encodeWeights(plan2)))
    expect(next.commitment).not.toBe(commitmentOf(encodeWeights(plan)))
    // a payload whose tail is not the blob it names: the admin library refuses it (CommitmentMismatch)
    const forged = new Uint8Array(next.data)
    forged[forged.length - 1]! ^= 1
    await expect(uploadWeights(s, address, abi, forged, next.sizes, { commitment: next.commitment })).rejects.toThrow(/CommitmentMismatch/)
    const up = await uploadWeights(s, address, abi, next.data, next.sizes, { commitment: next.commitment })
    expect(up).toHaveLength(1)
    expect(await readView<bigint>(s, address, abi, 'version')).toBe(2n)
    expect(await readView<Hex>(s, address, abi, 'commitment')).toBe(next.commitment)
    const kernel = await readView<Hex>(s, address, abi, 'chunkAddress', [0n])
    expect((await s.publicClient.getCode({ address: kernel }))!.toLowerCase()).toBe(toHex(next.data))

    const q2 = rowsOf(plan2, features)
    const after = await predictBatchTx(s, address, abi, plan2, q2, 'batch after the update')
    expect(after.outputs).toEqual(q2.map((r) => simulate(plan2, r)))
    expect(after.outputs).not.toEqual(batch.outputs)
    expect((await predictSingle(s, address, abi, plan2, q2[5]!)).outputs).toEqual(simulate(plan2, q2[5]!))
    // the batch's Predictions log is the model's own (DELEGATECALL): predictBatchTx reads it from the model's address
    expect(after.tx.gasUsed).toBeGreaterThan(batch.tx.gasUsed)
  })

  test('a non-owner cannot install a kernel; the update event names the new commitment', async () => {
    const c = compileSolidity(generateSolidity(plan, gen), 'Fw')
    const abi = c.abi as Abi
    const { address } = await deployModel(s, c.bytecode, abi)
    const next = updatePayload(plan2, gen)
    const [, other] = await s.publicClient.request({ method: 'eth_accounts' as never }) as Hex[]
    const data = encodeFunctionData({ abi, functionName: 'writeChunk', args: [0n, toHex(next.data), next.commitment] })
    await expect(s.publicClient.call({ account: other!, to: address, data, value: 1n })).rejects.toThrow(/NotOwner|reverted/)
    const tx = await sendTx(s, 'update', { to: address, data, value: 1n }, abi)
    const events = parseEventLogs({ abi, logs: tx.logs as never, eventName: 'ModelUpdated' })
    expect(events.map((e) => (e.args as { commitment: Hex }).commitment)).toEqual([next.commitment])
  })

  test('the code an updated model runs (dispatch, admin forwarding, checks, the forward) is the same for any weights; its jumps stay before the initial kernel', () => {
    samePrefix(plan, plan2)
    // a softmax head (its Yul function sits before the dispatch) and tanh, two other weight draws of one shape
    for (const last of ['softmax', 'tanh'] as const) {
      const p1 = makePlan(randomMlp([6, 8, 3], 1, { last }), { fraction: 16, weightBytes: 2, inputBytes: 2 })
      const p2 = makePlan(randomMlp([6, 8, 3], 2, { last }), { fraction: 16, weightBytes: 2, inputBytes: 2 })
      expect(forwardingPrefix(compileSolidity(generateSolidity(p1, gen), 'Fw').deployedBytecode, compileSolidity(generateSolidity(p1, { ...gen, commitmentOverride: commitmentOf(encodeWeights(p2)) }), 'Fw').deployedBytecode)!.ignore.length).toBeLessThanOrEqual(33)
      samePrefix(p1, p2)
    }
  })
})

function samePrefix(plan: Plan, plan2: Plan) {
  {
    const a = compileSolidity(generateSolidity(plan, gen), 'Fw').deployedBytecode
    const b = compileSolidity(generateSolidity(plan2, gen), 'Fw').deployedBytecode
    expect(a).not.toBe(b)
    const ops = opcodes(a)
    const k = ops.findIndex((o) => o.op === 0x47) // SELFBALANCE: the forward's test
    expect(ops.slice(k + 1, k + 4).map((o) => o.op)).toEqual([0x15, 0x61, 0x57]) // ISZERO PUSH2 x JUMPI
    const x = Number(ops[k + 2]!.arg)
    expect(opcodes(b).find((o) => o.op === 0x47)!.at).toBe(ops[k]!.at)
    // before x, the two codes differ only in the commitment word (a PUSH32 whatever the weights) and in PARAMS' commitBit byte
    const word = BigInt(commitmentWord(commitmentOf(encodeWeights(plan))).word)
    const w = ops.find((o) => o.op === 0x7f && o.arg === word)!
    expect(w.at).toBeLessThan(x)
    const ba = Buffer.from(a.slice(2), 'hex')
    const bb = Buffer.from(b.slice(2), 'hex')
    const differ = [...Array(x).keys()].filter((i) => ba[i] !== bb[i] && !(i > w.at && i <= w.at + 32))
    const params = ops.find((o) => o.at < x && o.op >= 0x60 && o.op <= 0x7f && (o.arg & 0xf0n) === 0x10n && o.arg > 1n << 64n)!
    expect(params).toBeDefined()
    for (const i of differ) expect(i > params.at && i <= params.at + params.op - 0x5f).toBe(true)
    // every jump target pushed before x is before x, or x itself (the initial kernel, run only while no kernel is named)
    for (let i = 0; i < ops.length && ops[i]!.at < x; i++)
      if (ops[i]!.op === 0x61 && [0x56, 0x57].includes(ops[i + 1]?.op ?? 0)) expect(Number(ops[i]!.arg)).toBeLessThanOrEqual(x)
  }
}
