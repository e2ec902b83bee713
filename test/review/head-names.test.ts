// Adversarial review (branch heads): head names. Each head's name keys predict --json's `heads`, report.json's
// `heads`, headTaskOf's lookup and the client library's HEAD_<NAME>_OFFSET/SIZE and predict<Head>: two heads
// with one name (or two names that map to one Solidity identifier) must never get through.
import { describe, expect, test } from 'bun:test'
import path from 'node:path'
import { headValues } from '../../src/model/source/joinValues.ts'
import { clientHeadsSolidity } from '../../src/codegen/client/clientHeads.ts'
import { generateClient } from '../../src/codegen/client/generateClient.ts'
import { compileSolidity } from '../../src/compile/compileSolidity.ts'
import { makePlan } from '../../src/fixed/makePlan.ts'
import { loadModel } from '../../src/model/loadModel.ts'
import type { ArchStep } from '../../src/ir/types.ts'
import { FIXTURES } from '../helpers/paths.ts'

const step = (name: string) => ({ op: 'linear', name }) as unknown as ArchStep
const trunk = step('trunk')
const namesOf = (names: (string | undefined)[]) => {
  const steps = headValues(names, names.map((_, i) => [trunk, step(`h${i}`)]))
  return (steps.at(-1) as unknown as { names: string[] }).names
}

describe('review: head names stay unique', () => {
  test('control: repeated and missing names are renamed out<i>', () => {
    expect(namesOf(['a', 'a'])).toEqual(['a', 'out1'])
    expect(namesOf([undefined, 'x.2'])).toEqual(['out0', 'out1'])
  })

  // an ONNX export with output_names=['out1'] for the first output and torch's default for the second
  // ('12'), or `return out1, out1`: the fallback name out<i> is not checked against the names already taken
  test('a fallback name out<i> never repeats a real output named out<i> (ONNX outputs [out1, "12"])', () => {
    const names = namesOf(['out1', '12'])
    expect(new Set(names).size).toBe(2)
  })

  test('names that differ only in case or underscores (fooBar, foo_bar): the client library still compiles, one identifier each', async () => {
    const model = await loadModel({ path: path.join(FIXTURES, 'graph', 'heads_wine', 'model.onnx') } as Parameters<typeof loadModel>[0])
    const plan = makePlan(model, { fraction: 20, weightBytes: 2, inputBytes: 4 })
    expect(plan.heads?.map((h) => h.size)).toEqual([3, 1])
    // two valid, distinct Python/ONNX names: `return fooBar, foo_bar`
    plan.heads = [
      { ...plan.heads![0]!, name: 'fooBar' },
      { ...plan.heads![1]!, name: 'foo_bar' },
    ]
    const lib = clientHeadsSolidity(plan)
    expect(lib.match(/HEAD_FOO_BAR_OFFSET =/g)?.length ?? 0).toBeLessThanOrEqual(1)
    const src = generateClient(plan, { contractName: 'Heads', task: 'multiclass', commitment: `0x${'00'.repeat(32)}` })
    expect(() => compileSolidity(src, 'HeadsClient')).not.toThrow()
  })

  test("a class head 'a' and a head named 'aClass': predictAClass defined once", () => {
    const lib = clientHeadsSolidity({ heads: [{ name: 'a', size: 3 }, { name: 'aClass', size: 1 }] } as never)
    expect(lib.match(/function predictAClass\(/g)?.length).toBe(1)
  })
})
