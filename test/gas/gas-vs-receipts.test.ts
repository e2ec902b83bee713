// `ml2sc gas` against the receipts of a real `ml2sc run` on anvil, on models no fit ever saw: the MLP
// fixtures with test data (a regression model included), each weight layout, and explicit batch sizes.
// The tanh model, the CNNs and ML2SC's own model: gas-vs-receipts-cnn.test.ts (the two files run side by side).
// Each case adds something: the sigmoid output in the three layouts (default, code, storage), a regression,
// a ReLU classifier read as logits (digits_bn, batch norm folded in; iris_logits, the same kind on 4 inputs,
// was dropped), storage with an explicit batch of 7 on a 10-class model, softmax with an explicit batch of 3.
import { fixture, gasVsReceipts } from './gasVsReceipts.ts'

gasVsReceipts([
  fixture('bc_sigmoid'),
  fixture('bc_sigmoid', 'weights:\n  layout: code\n'),
  fixture('bc_sigmoid', 'weights:\n  layout: storage\n'),
  fixture('diabetes_reg'), // regression
  fixture('digits_bn'),
  fixture('digits_bn', 'weights:\n  layout: storage\nbatch:\n  rows: 7\n'),
  fixture('iris_softmax', 'batch:\n  rows: 3\n'),
])
