# Python's math.erf over [-8, 8] (step 1/64) and GELU's two forms computed from it in float64: the values
# test/fixed/new-activations.test.ts checks ml2sc's float erf (src/ir/ops/erf.ts) and GELU references against.
# Run: python3 scripts/make-erf-table.py > test/fixtures/ops/erf.csv
import math

print("x,erf,gelu,gelu_tanh")
for i in range(-512, 513):
    x = i / 64
    g = 0.5 * x * (1 + math.erf(x / math.sqrt(2)))
    gt = 0.5 * x * (1 + math.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    print(f"{x!r},{math.erf(x)!r},{g!r},{gt!r}")
