// The header case rule: `data.label`, `data.drop` and predict's input columns match header names exactly,
// case included. A name that differs only in case is refused with one error saying so; two columns whose
// names differ only in case are two columns, each found by its own spelling.
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { predictCommand } from '../../src/commands/predict.ts'
import { readAllRows, type ReadOptions } from '../../src/data/readCsv.ts'
import { Ml2scError } from '../../src/errors/base.ts'
import { createLogger } from '../../src/ui/logger.ts'

const root = mkdtempSync(path.join(tmpdir(), 'ml2sc-case-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))
const quiet = createLogger({ quiet: true })

let n = 0
function csv(text: string): string {
  const file = path.join(root, `t${n++}.csv`)
  writeFileSync(file, text)
  return file
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (e) {
    expect(e).toBeInstanceOf(Ml2scError)
    return (e as Ml2scError).oneLine()
  }
  throw new Error('expected an error')
}
const read = (file: string, opts: ReadOptions) => readAllRows(file, opts)

describe('data.label and data.drop match the header exactly', () => {
  test("data.label 'label' with a header 'Label': refused, naming the header's spelling", async () => {
    const file = csv('f0,f1,Label\n1,2,0\n3,4,1\n')
    const line = await refusal(read(file, { label: 'label', features: 2 }))
    expect(line).toMatch(/no label column 'label'; the columns are 'f0', 'f1', 'Label'/)
    expect(line).toContain("column names match exactly, case included: the header has 'Label', not 'label'")
    // spelt as the header does, it is the label
    expect((await read(file, { label: 'Label', features: 2 })).labels).toEqual([0, 1])
  })

  test("data.drop 'ID' with a header 'id': refused the same way", async () => {
    const file = csv('id,f0,f1,label\n7,1,2,0\n')
    const line = await refusal(read(file, { drop: ['ID'], features: 2 }))
    expect(line).toMatch(/data.drop names 'ID', which is not a column/)
    expect(line).toContain("the header has 'id', not 'ID'")
    expect((await read(file, { drop: ['id'], features: 2 })).features).toEqual([[1, 2]])
  })

  test("a model input count that only fits with the label found: the error names the label's case", async () => {
    const file = csv('f0,f1,Target\n1,2,0\n')
    expect(await refusal(read(file, { label: 'target', features: 2, requireLabel: false }))).toContain("the header has 'Target', not 'target'")
  })

  test("two columns whose names differ only in case ('y' and 'Y') are two columns, each found by its own spelling", async () => {
    const file = csv('y,Y,f0,f1\n5,1,0.5,0.25\n6,0,0.75,0.125\n')
    const a = await read(file, { label: 'Y', drop: ['y'], features: 2 })
    expect(a.labels).toEqual([1, 0])
    expect(a.features).toEqual([[0.5, 0.25], [0.75, 0.125]])
    const b = await read(file, { label: 'y', drop: ['Y'], features: 2 })
    expect(b.labels).toEqual([5, 6])
    expect(b.features).toEqual([[0.5, 0.25], [0.75, 0.125]])
    // neither dropped: 'y' is the label, 'Y' a feature
    expect((await read(file, { label: 'y', features: 3 })).features).toEqual([[1, 0.5, 0.25], [0, 0.75, 0.125]])
  })

  test('the same name twice, case and all, is still refused', async () => {
    const err = await refusal(read(csv('a,a,label\n1,2,0\n'), {}))
    expect(err).toMatch(/column 'a' appears twice/)
  })
})

describe("predict's input columns match the model's feature names exactly", () => {
  // a 2-3-2 MLP whose test CSV names its features 'x' and 'X' (two columns, by case only) and its label 'Label'
  const dir = mkdtempSync(path.join(root, 'project-'))
  writeFileSync(
    path.join(dir, 'weights.json'),
    JSON.stringify({ 'fc1.weight': [[0.5, -0.25], [0.125, 0.75], [-0.5, 0.5]], 'fc1.bias': [0.1, 0, -0.1], 'fc2.weight': [[1, -1, 0.5], [-0.5, 0.25, 1]], 'fc2.bias': [0, 0.05] }),
  )
  writeFileSync(path.join(dir, 'test.csv'), 'x,X,Label\n0.1,0.9,0\n0.8,0.2,1\n0.4,0.4,0\n')
  writeFileSync(path.join(dir, 'ml2sc.yaml'), 'model:\n  path: weights.json\n  layers: [linear, relu, linear]\ndata:\n  test: test.csv\n  label: Label\n')
  const config = path.join(dir, 'ml2sc.yaml')
  const predict = (rows: string) => predictCommand({ config, input: csv(rows), offchain: true, quiet: true }, quiet)

  test("'x' and 'X' are matched by their exact names, in any order; the label column is ignored", async () => {
    const inOrder = await predict('x,X\n0.1,0.9\n0.8,0.2\n')
    const swapped = await predict('X,x,Label\n0.9,0.1,7\n0.2,0.8,7\n')
    expect(swapped.rows).toEqual(inOrder.rows)
    // the columns were not confused: swapping the values (not the names) changes the answers
    expect((await predict('x,X\n0.9,0.1\n0.2,0.8\n')).rows).not.toEqual(inOrder.rows)
  })

  test("a header 'LABEL' (the label is 'Label') is not ignored: refused, saying so", async () => {
    const line = await refusal(predict('x,X,LABEL\n0.1,0.9,0\n'))
    expect(line).toMatch(/the input's columns do not match the model's features: unknown 'LABEL'/)
    expect(line).toContain("the header has 'LABEL', not 'Label'")
  })

  test("a feature spelt in another case is refused, naming both spellings", async () => {
    const dir2 = mkdtempSync(path.join(root, 'project-'))
    writeFileSync(path.join(dir2, 'weights.json'), JSON.stringify({ 'fc1.weight': [[0.5, -0.25]], 'fc1.bias': [0.1] }))
    writeFileSync(path.join(dir2, 'test.csv'), 'age,income,label\n0.1,0.9,0.5\n')
    writeFileSync(path.join(dir2, 'ml2sc.yaml'), 'model:\n  path: weights.json\n  layers: [linear]\ndata:\n  test: test.csv\n')
    const line = await refusal(predictCommand({ config: path.join(dir2, 'ml2sc.yaml'), input: csv('Age,income\n0.1,0.9\n'), offchain: true, quiet: true }, quiet))
    expect(line).toMatch(/missing 'age'; unknown 'Age'/)
    expect(line).toContain("column names match exactly, case included: the header has 'Age', not 'age'")
  })
})
