import { clampXHelper, expNeg, expNegYul, ONE64 } from './exp.ts'
import { compactHex, each, hex, type OpDef, type YulCtx } from './types.ts'

/** sigmoid(y) = 1/(1+e^-|y|) rounded to nearest, and scale minus it for y < 0: sigmoid(y) + sigmoid(-y) = scale exactly. */
export function sigmoidFixed(y: bigint, scale: bigint): bigint {
  const a = y < 0n ? -y : y
  const den = ONE64 + expNeg(a, scale)
  const s = (ONE64 * scale + (den >> 1n)) / den
  return y < 0n ? scale - s : s
}

/**
 * sigmoid(y) in Yul (y read more than once: a variable): statements, and the expression of the result. `k`
 * writes its constants: compactHex where it runs once per row (written inline), the literal in a function.
 */
function sigmoidYul(c: YulCtx, y: string, p = '', k: (v: bigint) => string = hex): { lets: string; s: string } {
  // m = 0 or all ones (y < 0): |y| = (y xor m) - m; the sign restored as scale - s = (s xor m) + (m and (scale+1))
  const m = `${p}m`
  const den = `${p}den`
  const x = expNegYul(c.scale, !c.clampFree, `sub(xor(${y}, ${m}), ${m})`, p, k)
  return {
    lets: `let ${m} := sar(255, ${y})
                ${x.lets}
                let ${den} := add(${k(ONE64)}, ${x.e})`,
    s: `add(xor(div(add(${k(ONE64 * c.scale)}, shr(1, ${den})), ${den}), ${m}), and(${m}, ${k(c.scale + 1n)}))`,
  }
}

/** Sigmoid: exp (exp.ts) and one DIV for the reciprocal; max abs error half an ulp + 6.6e-9. */
export const sigmoid: OpDef<{ kind: 'sigmoid' }> = {
  kind: 'sigmoid',
  shape: 'elementwise',
  gas: 450,
  float: each((v: number) => 1 / (1 + Math.exp(-v))),
  fixed: (y, _a, _q, c) => y.map((v) => sigmoidFixed(v, c.scale)),
  bound: (_p, _a, _q, c) => c.scale,
  expFactor: 1n,
  yul: {
    helpers: (c) => {
      if (c.sigmoidInline) return clampXHelper(c)
      const x = sigmoidYul(c, 'y')
      return [
        ...clampXHelper(c),
        {
          name: 'sigmoid',
          order: 2,
          text: `function sigmoid(y) -> s {
                ${x.lets}
                s := ${x.s}
            }`,
        },
      ]
    },
    expr: (v) => `sigmoid(${v})`,
    // a sigmoid computed at exactly one place in the contract (a dense model with one sigmoid output, as
    // ML2SC's) is written there instead of as a function: a Yul call costs ~40 gas and its own code
    store: (v, out, c) => {
      if (!c.sigmoidInline) return undefined
      const x = sigmoidYul(c, v, 'sg_', compactHex)
      return `${x.lets.replace(/\n\s*/g, ' ')} mstore(${out}, ${x.s})`
    },
  },
  error: 6.6e-9,
}
