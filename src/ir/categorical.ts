/**
 * Categorical inputs (nn.Embedding on a column of the CSV). The column holds a category index, a whole
 * number in [0, count). The model's first Linear reads `cat([emb(x[:, i]), …, x[:, a:b]])`; since
 * Linear(cat(E[c], x)) = W_E·E[c] + W_x·x + b, the table E folds through the Linear exactly (in float64)
 * into one weight column per category, T = W_E·Eᵀ: the layer then reads the column one-hot. So the dense
 * layers see the *expanded* input, the CSV's columns in order with each categorical column replaced by
 * `count` one-hot entries (1.0 at the category's position, 0 elsewhere), and the contract writes that
 * vector itself from the index in calldata (one check, `count` MSTOREs).
 */
export type CategoricalInput = {
  /** The CSV feature column (0-based) that holds the index. */
  column: number
  /** Categories: nn.Embedding's num_embeddings. */
  count: number
  /** The embedding's name (state_dict prefix or ONNX initializer), for messages. */
  name: string
}

/** Where each CSV column lands in the expanded vector, and that vector's length. */
export function expandedLayout(inputSize: number, cats: CategoricalInput[] | undefined): { at: number[]; size: number } {
  const at: number[] = []
  let size = 0
  for (let i = 0; i < inputSize; i++) {
    at.push(size)
    size += cats?.find((c) => c.column === i)?.count ?? 1
  }
  return { at, size }
}

/** The index a categorical feature holds, or why it holds none (for the one-line refusal). */
export function categoryOf(v: number, cat: CategoricalInput): number | string {
  if (!Number.isInteger(v) || v < 0 || v >= cat.count) return `${v} is not a category index of embedding '${cat.name}' (a whole number from 0 to ${cat.count - 1})`
  return v
}

/**
 * The expanded input of a row (float or fixed point alike): numeric features copied, each categorical
 * feature replaced by its one-hot vector (`one` at the category, `zero` elsewhere). `indexOf` turns the
 * feature into its category (it throws for a value that is none).
 */
export function expandInput<T>(x: T[], cats: CategoricalInput[] | undefined, one: T, zero: T, indexOf: (v: T, cat: CategoricalInput) => number): T[] {
  if (!cats?.length) return x
  const out: T[] = []
  x.forEach((v, i) => {
    const cat = cats.find((c) => c.column === i)
    if (!cat) return void out.push(v)
    const k = indexOf(v, cat)
    for (let j = 0; j < cat.count; j++) out.push(j === k ? one : zero)
  })
  return out
}

/** One part of `torch.cat([...], dim=1)` at the model's input: an embedding of one column, or columns [from, to). */
export type EmbedPiece = { kind: 'embedding'; name: string; column: number } | { kind: 'columns'; from: number; to?: number }
