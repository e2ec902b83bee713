import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { expect } from 'bun:test'
import { loadConfig } from '../../src/config/loadConfig.ts'
import { Ml2scError } from '../../src/errors/base.ts'
import { createLogger } from '../../src/ui/logger.ts'
import { ROOT } from '../helpers/paths.ts'

export const quiet = createLogger({ quiet: true })

/** A fresh folder with the breast-cancer example (ONNX 30-8-1, 50 rows) and an ml2sc.yaml. */
export function bcProject(extraYaml = '', files: Record<string, string> = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-cmd-'))
  copyFileSync(path.join(ROOT, 'examples/breast-cancer/model.onnx'), path.join(dir, 'model.onnx'))
  copyFileSync(path.join(ROOT, 'examples/breast-cancer/test.csv'), path.join(dir, 'test.csv'))
  copyFileSync(path.join(ROOT, 'examples/breast-cancer/reference.csv'), path.join(dir, 'reference.csv'))
  for (const [f, t] of Object.entries(files)) writeFileSync(path.join(dir, f), t)
  // agreement is measured against PyTorch's own outputs (data.reference)
  writeFileSync(path.join(dir, 'ml2sc.yaml'), `model:\n  path: model.onnx\ndata:\n  test: test.csv\n  reference: reference.csv\n${extraYaml}`)
  return path.join(dir, 'ml2sc.yaml')
}

/** digits (64-32-10, BatchNorm folded) with int64 weights in 4 KB chunks: too big to embed, so 5 upload transactions. */
export function digitsProject(extraYaml = ''): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-cmd-'))
  copyFileSync(path.join(ROOT, 'test/fixtures/digits_bn/model.onnx'), path.join(dir, 'model.onnx'))
  copyFileSync(path.join(ROOT, 'test/fixtures/digits_bn/test.csv'), path.join(dir, 'test.csv'))
  copyFileSync(path.join(ROOT, 'test/fixtures/digits_bn/reference.csv'), path.join(dir, 'reference.csv'))
  writeFileSync(path.join(dir, 'ml2sc.yaml'), `model:\n  path: model.onnx\ndata:\n  test: test.csv\n  reference: reference.csv\n  limit: 20\nprecision:\n  weights: int64\nbatch:\n  upload: 4096\n${extraYaml}`)
  return path.join(dir, 'ml2sc.yaml')
}

export const config = (file: string) => loadConfig(file)

/** The promise fails with an Ml2scError whose one line matches. */
export async function expectMl2scError(p: Promise<unknown>, pattern: RegExp): Promise<Ml2scError> {
  let err: unknown
  try {
    await p
  } catch (e) {
    err = e
  }
  expect(err).toBeInstanceOf(Ml2scError)
  expect((err as Ml2scError).oneLine()).toMatch(pattern)
  return err as Ml2scError
}
