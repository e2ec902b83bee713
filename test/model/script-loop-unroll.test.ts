// Issue 19: a scripted forward()'s `for _0 in range(…):` (prim::Loop) unrolled when the trip count is a
// constant (src/model/pt/scriptBranches.ts): the body once per iteration, the loop variable set first, nested
// loops left for the next pass; a trip count that is not a constant is refused naming the line.
import { describe, expect, test } from 'bun:test'
import { unrollLoop } from '../../src/model/pt/scriptBranches.ts'
import { ForwardUnreadable } from '../../src/model/pt/scriptExpr.ts'

const consts: Record<string, unknown> = { '3': 3, '1': 1, '2': 2, n: Symbol('shape') }
const constOf = (src: string) => consts[src]

describe('unrollLoop', () => {
  test('range(3): three copies of the body, dedented, each after `_0 = i`; lines after the loop kept', () => {
    const lines = ['    x1 = x0', '    for _0 in range(3):', '      fc = self.fc', '      x1 = torch.relu((fc).forward(x1, ))', '    return x1']
    expect(unrollLoop(lines, 1, constOf)).toBe(true)
    expect(lines).toEqual([
      '    x1 = x0',
      ...[0, 1, 2].flatMap((i) => [`    _0 = ${i}`, '    fc = self.fc', '    x1 = torch.relu((fc).forward(x1, ))']),
      '    return x1',
    ])
  })

  test('range(1, 3) and a nested loop: the outer unrolled twice, the inner left as a loop for the next pass', () => {
    const lines = ['    for i in range(1, 3):', '      for j in range(2):', '        x = f(x)', '    return x']
    expect(unrollLoop(lines, 0, constOf)).toBe(true)
    expect(lines).toEqual(['    i = 1', '    for j in range(2):', '      x = f(x)', '    i = 2', '    for j in range(2):', '      x = f(x)', '    return x'])
    expect(unrollLoop(lines, 1, constOf)).toBe(true)
    expect(lines.slice(1, 5)).toEqual(['    j = 0', '    x = f(x)', '    j = 1', '    x = f(x)'])
  })

  test('not a loop: false, the lines untouched; a trip count from the input: refused naming the line', () => {
    const lines = ['    x = f(x)']
    expect(unrollLoop(lines, 0, constOf)).toBe(false)
    expect(lines).toEqual(['    x = f(x)'])
    expect(() => unrollLoop(['    for _0 in range(n):', '      x = f(x)'], 0, constOf)).toThrow(new ForwardUnreadable('a loop whose trip count is not a constant ("for _0 in range(n):")'))
  })
})
