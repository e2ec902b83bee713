#!/usr/bin/python3
"""Graph-shaped dense models for issue 19 part D, trained by real PyTorch (run with /usr/bin/python3).

Writes test/fixtures/graph/<name>/: model.state_dict.pt (the weights), model.py (the nn.Module source
ml2sc reads: residual adds and torch.cat in forward), model.onnx (the same model exported, opset 13),
test.csv (held-out rows and labels) and reference.csv (PyTorch's float outputs for them).
- residual_wine: h = relu(fc_in(x)); h = h + relu(fc1(h)); h = relu(fc2(h)) + h; return out(h)
- concat_digits: two branches of x (tanh and relu) concatenated with x itself, then a ReLU layer and the head
- standardized_wine: raw wine features; forward standardises them with registered buffers,
  x = (x - self.mean) / self.std, then a residual block
The outputs are committed, so tests never need torch.
"""
import os

import torch

from fixture_common import export_onnx, fixture_dir, load, seed, train, write_classifier_outputs, write_text

ROOT = fixture_dir("graph")

RESIDUAL_SOURCE = '''import torch.nn as nn
import torch.nn.functional as F


class ResidualMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc_in = nn.Linear(13, 24)
        self.fc1 = nn.Linear(24, 24)
        self.fc2 = nn.Linear(24, 24)
        self.out = nn.Linear(24, 3)

    def forward(self, x):
        h = F.relu(self.fc_in(x))
        h = h + F.relu(self.fc1(h))
        h = F.relu(self.fc2(h)) + h
        return self.out(h)
'''

CONCAT_SOURCE = '''import torch
import torch.nn as nn


class ConcatMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.wide = nn.Linear(64, 24)
        self.deep1 = nn.Linear(64, 32)
        self.deep2 = nn.Linear(32, 16)
        self.mix = nn.Linear(64 + 24 + 16, 32)
        self.head = nn.Linear(32, 10)

    def forward(self, x):
        a = torch.tanh(self.wide(x))
        b = torch.relu(self.deep2(torch.relu(self.deep1(x))))
        h = torch.cat([x, a, b], dim=1)
        h = torch.relu(self.mix(h))
        return self.head(h)
'''

STANDARDIZED_SOURCE = '''import torch
import torch.nn as nn
import torch.nn.functional as F


class StandardizedResidual(nn.Module):
    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.as_tensor(std, dtype=torch.float32))
        self.fc_in = nn.Linear(13, 16)
        self.fc1 = nn.Linear(16, 16)
        self.out = nn.Linear(16, 3)

    def forward(self, x):
        x = (x - self.mean) / self.std
        h = F.relu(self.fc_in(x))
        h = h + F.relu(self.fc1(h))
        return self.out(h)
'''

scope = {}
exec(STANDARDIZED_SOURCE, scope)
exec(RESIDUAL_SOURCE, scope)
exec(CONCAT_SOURCE, scope)


def make(name, cls, source, data, n_test, epochs, lr, raw=False):
    seed(0)
    Xtr, Xte, ytr, yte, names = load(data, n_test, raw)
    # raw features: the model standardises them itself, with the training set's statistics as buffers
    model = train(scope[cls](Xtr.mean(0), Xtr.std(0)) if raw else scope[cls](), Xtr, ytr, epochs, lr)
    d = os.path.join(ROOT, name)
    os.makedirs(d, exist_ok=True)
    torch.save(model.state_dict(), os.path.join(d, "model.state_dict.pt"))
    export_onnx(model, torch.zeros(2, Xte.shape[1]), os.path.join(d, "model.onnx"))
    write_text(os.path.join(d, "model.py"), source)
    write_classifier_outputs(d, name, model, Xte, yte, names)


def main():
    make("residual_wine", "ResidualMLP", RESIDUAL_SOURCE, "wine", 40, 300, 0.01)
    make("concat_digits", "ConcatMLP", CONCAT_SOURCE, "digits", 150, 300, 0.01)
    make("standardized_wine", "StandardizedResidual", STANDARDIZED_SOURCE, "wine", 40, 300, 0.01, raw=True)


if __name__ == "__main__":
    main()
