import { readFileSync } from 'node:fs'
import path from 'node:path'

/**
 * A fixture's PyTorch outputs (`<dir>/reference.csv`: a header, then `row,out0,out1,…`), one array per test
 * row. Read here on its own, not through ml2sc's data.reference reader, so that tests compare with PyTorch
 * even if that reader were wrong.
 */
export function pytorchOutputs(dir: string): number[][] {
  return readFileSync(path.join(dir, 'reference.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').slice(1).map(Number))
}
