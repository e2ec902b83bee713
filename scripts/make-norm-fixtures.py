#!/usr/bin/python3
"""Dense models with normalisation layers for issue 19 (norms), trained by real PyTorch (run with /usr/bin/python3).

Writes test/fixtures/graph/<name>/: model.state_dict.pt, model.py (the nn.Module source ml2sc reads),
model.onnx (opset 13: torch writes LayerNorm as ReduceMean/Sub/Pow/Sqrt/Div nodes, GroupNorm as
InstanceNormalization), model.opset17.onnx (LayerNormalization nodes, ln_residual_wine only), test.csv
(held-out rows and labels) and reference.csv (PyTorch's float outputs for them).
- ln_residual_wine: x = relu(fc_in(x)); x = ln(x + f(x)); x = ln2(x + relu(f2(x))); return out(x)
  (two stacked post-norm residual blocks, as a transformer's)
- norm_digits: BatchNorm1d after an activation (folded into the next Linear), GroupNorm then ReLU (its
  γ/β on chain), torch.cat of two branches, BatchNorm1d on the concatenation then ReLU (per feature on chain)
The outputs are committed, so tests never need torch.
"""
import os

import torch
import torch.nn as nn

from fixture_common import export_onnx, fixture_dir, load, seed, train, write_classifier_outputs, write_text

ROOT = fixture_dir("graph")

LN_SOURCE = '''import torch.nn as nn
import torch.nn.functional as F


class LNResidual(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc_in = nn.Linear(13, 16)
        self.f = nn.Sequential(nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 16))
        self.ln = nn.LayerNorm(16)
        self.f2 = nn.Linear(16, 16)
        self.ln2 = nn.LayerNorm(16)
        self.out = nn.Linear(16, 3)

    def forward(self, x):
        x = F.relu(self.fc_in(x))
        x = self.ln(x + self.f(x))
        x = self.ln2(x + F.relu(self.f2(x)))
        return self.out(x)
'''

NORM_SOURCE = '''import torch
import torch.nn as nn
import torch.nn.functional as F


class NormMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 32)
        self.bn1 = nn.BatchNorm1d(32)
        self.fc2 = nn.Linear(32, 24)
        self.gn = nn.GroupNorm(4, 24)
        self.fc3 = nn.Linear(32, 8)
        self.bn2 = nn.BatchNorm1d(32)
        self.out = nn.Linear(32, 10)

    def forward(self, x):
        h = self.bn1(F.relu(self.fc1(x)))
        a = F.relu(self.gn(self.fc2(h)))
        b = torch.tanh(self.fc3(h))
        h = F.relu(self.bn2(torch.cat([a, b], dim=1)))
        return self.out(h)
'''

scope = {}
exec(LN_SOURCE, scope)
exec(NORM_SOURCE, scope)


def make(name, cls, source, data, n_test, epochs, lr, opset17=False):
    seed(0)
    Xtr, Xte, ytr, yte, names = load(data, n_test)
    model = train(scope[cls](), Xtr, ytr, epochs, lr)
    d = os.path.join(ROOT, name)
    os.makedirs(d, exist_ok=True)
    torch.save(model.state_dict(), os.path.join(d, "model.state_dict.pt"))
    try:
        export_onnx(model, torch.zeros(2, Xte.shape[1]), os.path.join(d, "model.onnx"), 13)
    except IndexError:
        # torch 1.13's exporter fails on GroupNorm over a 2-D (N, C) input (_unsqueeze_helper: list index out
        # of range) at every opset: no ONNX for this model; gn_unsqueeze.onnx shows how a 3-D one exports
        print(f"{name}: torch.onnx.export failed (GroupNorm on (N, C) input, a torch 1.13 exporter bug): no model.onnx")
    if opset17:
        export_onnx(model, torch.zeros(2, Xte.shape[1]), os.path.join(d, "model.opset17.onnx"), 17)
    write_text(os.path.join(d, "model.py"), source)
    write_classifier_outputs(d, name, model, Xte, yte, names)


class GroupNormSeq(nn.Module):
    """GroupNorm on (N, C, 1): what torch 1.13 can export (InstanceNormalization between two Reshapes, then Mul/Add)."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.gn = nn.GroupNorm(2, 8)
        self.out = nn.Linear(8, 2)

    def forward(self, x):
        return self.out(self.gn(self.fc(x).unsqueeze(-1)).squeeze(-1))


def main():
    torch.manual_seed(0)
    export_onnx(GroupNormSeq().eval(), torch.zeros(2, 8), os.path.join(ROOT, "gn_unsqueeze.onnx"))
    make("ln_residual_wine", "LNResidual", LN_SOURCE, "wine", 40, 300, 0.01, opset17=True)
    make("norm_digits", "NormMLP", NORM_SOURCE, "digits", 100, 300, 0.01)


if __name__ == "__main__":
    main()
