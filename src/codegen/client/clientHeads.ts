import type { Plan } from '../../fixed/types.ts'

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1)

/**
 * A multi-output model's named view in the client library: predict returns one flat int256[] (head 0's
 * outputs, then head 1's, …); for each head, its offset and size as constants, `predict<Head>` (that
 * head's outputs in 1e18 units) and, for a class head (several outputs), `predict<Head>Class` (its argmax).
 */
export function clientHeadsSolidity(plan: Plan): string {
  if (!plan.heads?.length) return ''
  let offset = 0
  // two names may give one Solidity identifier (fooBar / foo_bar → FOO_BAR; a and aClass → predictAClass):
  // a later head whose identifiers are taken gets its index appended (HEAD_FOO_BAR_1_OFFSET, predictFoo_bar_1)
  const taken = new Set<string>()
  const parts = plan.heads.map((h, i) => {
    const at = offset
    offset += h.size
    const idsOf = (name: string) => {
      const K = name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()
      return { N: cap(name), K, all: [`HEAD_${K}`, `predict${cap(name)}`, `predict${cap(name)}Class`] }
    }
    let ids = idsOf(h.name)
    if (ids.all.some((x) => taken.has(x))) ids = idsOf(`${h.name}_${i}`)
    ids.all.forEach((x) => taken.add(x))
    const { N, K } = ids
    const slice = `        int256[] memory all = predict(model, features);
        out = new int256[](${h.size});
        for (uint256 j = 0; j < ${h.size}; j++) out[j] = all[j + ${at}];`
    const cls =
      h.size > 1
        ? `
    /// @notice The class head \`${h.name}\` predicts: the index of its largest output (the first on a tie).
    function predict${N}Class(address model, int256[] memory features) internal view returns (uint256 best) {
        int256[] memory all = predict(model, features);
        for (uint256 j = 1; j < ${h.size}; j++) if (all[j + ${at}] > all[best + ${at}]) best = j;
    }
`
        : ''
    return `
    /// Output \`${h.name}\`: ${h.size} value(s), outputs ${at}${h.size > 1 ? `..${at + h.size - 1}` : ''} of predict.
    uint256 internal constant HEAD_${K}_OFFSET = ${at};
    uint256 internal constant HEAD_${K}_SIZE = ${h.size};

    /// @notice Output \`${h.name}\` for \`features\`, in 1e18 units.
    function predict${N}(address model, int256[] memory features) internal view returns (int256[] memory out) {
${slice}
    }
${cls}`
  })
  return `
    // A multi-output model: predict returns ${plan.heads.map((h) => `${h.name} (${h.size})`).join(', then ')}, one after another.${parts.join('')}`
}
