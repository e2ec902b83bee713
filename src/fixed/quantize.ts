export { quantize } from '../ir/ops/quantize.ts'
