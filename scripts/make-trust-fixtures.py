#!/usr/bin/python3
"""Make the held-out models of issue 18 ("a run can be far from PyTorch and still say agreement 100%")
with real PyTorch, into test/fixtures/trust/. Run once with Debian's python3-torch (torch 1.13) and
python3-sklearn (scikit-learn 1.2):

    /usr/bin/python3 scripts/make-trust-fixtures.py

- residual/: a weights-only state_dict of a residual MLP (h = h + relu(fc2(relu(fc1(h))))) with the
  model.py that defines it; ml2sc's source reader does not follow the skip connection, and `init` used to
  guess a plain chain (linear, relu, …) from the tensors instead, far from PyTorch.
- elu/: a weights-only state_dict of an ELU MLP with its model.py (F.elu); without the source the tensors
  look like a ReLU MLP.
- bn/: a BatchNorm classifier (ONNX) with large logits, on which int8 weights keep every test row's class
  but move the logits by several percent of their range.

Each folder holds the model, test.csv (held-out rows and labels) and reference.csv (PyTorch's float
outputs for those rows, as `np.savetxt` would, with a header). The outputs are committed, so the tests
never need torch.
"""
import os

import torch
import torch.nn as nn

from fixture_common import export_onnx, fixture_dir, load, seed, train, write_classifier_outputs, write_text

ROOT = fixture_dir("trust")

RESIDUAL_SOURCE = '''import torch.nn as nn
import torch.nn.functional as F


class ResidualNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc_in = nn.Linear(13, 16)
        self.fc1 = nn.Linear(16, 16)
        self.fc2 = nn.Linear(16, 16)
        self.out = nn.Linear(16, 3)

    def forward(self, x):
        h = F.relu(self.fc_in(x))
        h = h + F.relu(self.fc2(F.relu(self.fc1(h))))
        return self.out(h)
'''

ELU_SOURCE = '''import torch.nn as nn
import torch.nn.functional as F


class EluNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(13, 12)
        self.fc2 = nn.Linear(12, 8)
        self.fc3 = nn.Linear(8, 3)

    def forward(self, x):
        x = F.elu(self.fc1(x))
        x = F.elu(self.fc2(x))
        return self.fc3(x)
'''


scope = {}
exec(RESIDUAL_SOURCE, scope)
exec(ELU_SOURCE, scope)


def bn_net():
    return nn.Sequential(nn.Linear(64, 96), nn.BatchNorm1d(96), nn.ReLU(), nn.Linear(96, 10))


def make(name, model, data, n_test, epochs, lr, source=None, onnx=False):
    seed(0)
    Xtr, Xte, ytr, yte, names = load(data, n_test)
    model = train(model, Xtr, ytr, epochs, lr)
    d = os.path.join(ROOT, name)
    os.makedirs(d, exist_ok=True)
    if onnx:
        export_onnx(model, torch.zeros(2, Xte.shape[1]), os.path.join(d, "model.onnx"))
    else:
        torch.save(model.state_dict(), os.path.join(d, "model.state_dict.pt"))
    if source:
        write_text(os.path.join(d, "model.py"), source)
    write_classifier_outputs(d, name, model, Xte, yte, names)


def main():
    seed(0)
    make("residual", scope["ResidualNet"](), "wine", 40, 300, 0.01, source=RESIDUAL_SOURCE)
    seed(0)
    make("elu", scope["EluNet"](), "wine", 40, 300, 0.01, source=ELU_SOURCE)
    seed(0)
    make("bn", bn_net(), "digits", 60, 1000, 0.03, onnx=True)


if __name__ == "__main__":
    main()
