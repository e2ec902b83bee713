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
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn import datasets
from sklearn.model_selection import train_test_split

warnings.filterwarnings("ignore")
torch.set_num_threads(1)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "graph")

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


def f32(v):
    return repr(float(np.float32(v)))


def load(name, n_test):
    ds = {"wine": datasets.load_wine, "digits": datasets.load_digits}[name]()
    X = ds.data.astype(np.float64)
    y = ds.target.astype(np.int64)
    if name == "digits":
        X = X / 16.0
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=n_test, random_state=0, stratify=y)
    if name == "wine":
        mu, sd = Xtr.mean(0), Xtr.std(0)
        Xtr, Xte = (Xtr - mu) / sd, (Xte - mu) / sd
    return Xtr.astype(np.float32), Xte.astype(np.float32), ytr, yte, [f"x{i}" for i in range(X.shape[1])]


def train(model, X, y, epochs, lr):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    for _ in range(epochs):
        model.train()
        opt.zero_grad()
        F.cross_entropy(model(Xt), yt).backward()
        opt.step()
    model.eval()
    return model


def export(model, n_in, path, opset):
    torch.onnx.export(model, torch.zeros(2, n_in), path, opset_version=opset, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, do_constant_folding=True)


def make(name, cls, source, data, n_test, epochs, lr, opset17=False):
    torch.manual_seed(0)
    np.random.seed(0)
    Xtr, Xte, ytr, yte, names = load(data, n_test)
    model = train(scope[cls](), Xtr, ytr, epochs, lr)
    d = os.path.join(ROOT, name)
    os.makedirs(d, exist_ok=True)
    torch.save(model.state_dict(), os.path.join(d, "model.state_dict.pt"))
    try:
        export(model, Xte.shape[1], os.path.join(d, "model.onnx"), 13)
    except IndexError:
        # torch 1.13's exporter fails on GroupNorm over a 2-D (N, C) input (_unsqueeze_helper: list index out
        # of range) at every opset: no ONNX for this model; gn_unsqueeze.onnx shows how a 3-D one exports
        print(f"{name}: torch.onnx.export failed (GroupNorm on (N, C) input, a torch 1.13 exporter bug): no model.onnx")
    if opset17:
        export(model, Xte.shape[1], os.path.join(d, "model.opset17.onnx"), 17)
    with open(os.path.join(d, "model.py"), "w") as f:
        f.write(source)
    with torch.no_grad():
        out = model(torch.from_numpy(Xte)).double().numpy()
    with open(os.path.join(d, "test.csv"), "w") as f:
        f.write(",".join(names + ["label"]) + "\n")
        for row, label in zip(Xte, yte):
            f.write(",".join([f32(v) for v in row] + [str(int(label))]) + "\n")
    with open(os.path.join(d, "reference.csv"), "w") as f:
        f.write(",".join(["row"] + [f"out{i}" for i in range(out.shape[1])]) + "\n")
        for i, row in enumerate(out):
            f.write(",".join([str(i)] + [repr(float(v)) for v in row]) + "\n")
    acc = float(np.mean(out.argmax(1) == yte))
    print(f"{name}: {len(Xte)} test rows, PyTorch accuracy {acc:.3f}, output range {out.min():.2f}..{out.max():.2f}")


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
    export(GroupNormSeq().eval(), 8, os.path.join(ROOT, "gn_unsqueeze.onnx"), 13)
    make("ln_residual_wine", "LNResidual", LN_SOURCE, "wine", 40, 300, 0.01, opset17=True)
    make("norm_digits", "NormMLP", NORM_SOURCE, "digits", 100, 300, 0.01)


if __name__ == "__main__":
    main()
