/**
 * Categorical inputs (nn.Embedding on a column of the CSV). The column holds a category index, a whole
 * number in [0, count). The model's first Linear reads `cat([emb(x[:, i]), …, x[:, a:b]])`; since
 * Linear(cat(E[c], x)) = W_E·E[c] + W_x·x + b, the table E folds through the Linear exactly (in float64)
 * into one weight column per category, T = W_E·Eᵀ (column c is the folded row W_E·E[c]). So the dense
 * layers see the *expanded* input: the CSV's numeric columns first, in order, then each categorical
 * column's `count` one-hot entries (1.0 at the category's position, 0 elsewhere), categorical columns in
 * order. On chain the contract never writes that vector: it multiplies the numeric columns and *gathers*
 * the category's weight column (one read per lane group, codegen/dense/categoricalYul.ts), the same integer sum.
 */
export type CategoricalInput = {
  /** The CSV feature column (0-based) that holds the index. */
  column: number
  /** Categories: nn.Embedding's num_embeddings. */
  count: number
  /** The embedding's name (state_dict prefix or ONNX initializer), for messages. */
  name: string
}

/**
 * Where each CSV column lands in the expanded vector (numeric columns first, then each categorical column's
 * one-hot block), that vector's length, and how many numeric columns lead it.
 */
export function expandedLayout(inputSize: number, cats: CategoricalInput[] | undefined): { at: number[]; size: number; numeric: number } {
  const isCat = (i: number) => cats?.some((c) => c.column === i) ?? false
  const at: number[] = new Array(inputSize)
  let size = 0
  for (let i = 0; i < inputSize; i++) if (!isCat(i)) at[i] = size++
  const numeric = size
  for (let i = 0; i < inputSize; i++) {
    const cat = cats?.find((c) => c.column === i)
    if (cat) (at[i] = size), (size += cat.count)
  }
  return { at, size, numeric }
}

/** The index a categorical feature holds, or why it holds none (for the one-line refusal). */
export function categoryOf(v: number, cat: CategoricalInput): number | string {
  if (!Number.isInteger(v) || v < 0 || v >= cat.count) return `${v} is not a category index of embedding '${cat.name}' (a whole number from 0 to ${cat.count - 1})`
  return v
}

/**
 * The expanded input of a row (float or fixed point alike, the layout of expandedLayout): numeric features
 * copied, each categorical feature replaced by its one-hot vector (`one` at the category, `zero` elsewhere).
 * `indexOf` turns the feature into its category (it throws for a value that is none).
 */
export function expandInput<T>(x: T[], cats: CategoricalInput[] | undefined, one: T, zero: T, indexOf: (v: T, cat: CategoricalInput) => number): T[] {
  if (!cats?.length) return x
  const { at, size } = expandedLayout(x.length, cats)
  const out = new Array<T>(size).fill(zero)
  x.forEach((v, i) => {
    const cat = cats.find((c) => c.column === i)
    if (!cat) return void (out[at[i]!] = v)
    out[at[i]! + indexOf(v, cat)] = one
  })
  return out
}

/**
 * The interval rule of a gathered layer: |b| + Σ|w_i|·xMax_i over the numeric inputs, plus for each
 * categorical column the largest |w|·xMax of its one-hot block (exactly one category is read), not their
 * sum. `row` and `xMax` are in the expanded layout.
 */
export function gatheredBound(row: bigint[], xMax: bigint[], bias: bigint, inputSize: number, cats: CategoricalInput[]): bigint {
  const abs = (v: bigint) => (v < 0n ? -v : v)
  const { at, numeric } = expandedLayout(inputSize, cats)
  let acc = abs(bias)
  for (let i = 0; i < numeric; i++) acc += abs(row[i]!) * xMax[i]!
  for (const cat of cats) {
    let best = 0n
    for (let k = at[cat.column]!; k < at[cat.column]! + cat.count; k++) if (abs(row[k]!) * xMax[k]! > best) best = abs(row[k]!) * xMax[k]!
    acc += best
  }
  return acc
}

/** One part of `torch.cat([...], dim=1)` at the model's input: an embedding of one column, or columns [from, to). */
export type EmbedPiece = { kind: 'embedding'; name: string; column: number } | { kind: 'columns'; from: number; to?: number }
