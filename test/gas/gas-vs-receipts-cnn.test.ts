// `ml2sc gas` against the receipts of a real `ml2sc run` on anvil (the MLP fixtures: gas-vs-receipts.test.ts):
// a tanh model in two layouts, the CNN fixtures, and ML2SC's own model.
import { fixture, gasVsReceipts, ml2sc } from './gasVsReceipts.ts'

gasVsReceipts([
  fixture('wine_tanh_leaky'), // tanh
  fixture('wine_tanh_leaky', 'weights:\n  layout: code\n'),
  fixture('cnn_digits8'),
  fixture('cnn_signal1d'),
  fixture('cnn_depthwise'),
  ml2sc,
])
