// `ml2sc gas` against the receipts of a real `ml2sc run` on anvil (the MLP fixtures: gas-vs-receipts.test.ts):
// a tanh/leaky-ReLU model, the CNN fixtures (2-D, 1-D, depthwise), and ML2SC's own model (weights JSON and
// nn.Module source). The `code` layout is bc_sigmoid's case there (the tanh model in it was dropped: that
// layout and that activation are each covered).
import { fixture, gasVsReceipts, ml2sc } from './gasVsReceipts.ts'

gasVsReceipts([
  fixture('wine_tanh_leaky'), // tanh
  fixture('cnn_digits8'),
  fixture('cnn_signal1d'),
  fixture('cnn_depthwise'),
  ml2sc,
])
