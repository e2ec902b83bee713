import type { LayerInput } from '../../ir/layerInput.ts'

/** Where element j of a layer's concatenated input lies: each value's elements in turn (no sum, no post op: buildModel refuses those after a GRU/LSTM or attention). */
export function concatReader(input: LayerInput, widthOf: (v: number) => number, valueAt: (v: number, j: number) => number): (j: number) => number {
  if (input.op !== 'concat' || input.post) throw new Error(`unreachable: a ${input.op}${input.post ? ' with a post op' : ''} after a GRU/LSTM or attention`)
  const map: [number, number][] = input.values.flatMap((v) => Array.from({ length: widthOf(v) }, (_, j): [number, number] => [v, j]))
  return (j) => valueAt(...map[j]!)
}
