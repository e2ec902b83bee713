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
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn import datasets
from sklearn.model_selection import train_test_split

warnings.filterwarnings("ignore")
torch.set_num_threads(1)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "trust")

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


def bn_net():
    return nn.Sequential(nn.Linear(64, 96), nn.BatchNorm1d(96), nn.ReLU(), nn.Linear(96, 10))


def seed(s=0):
    torch.manual_seed(s)
    np.random.seed(s)


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
    # features as float32, the values written to test.csv
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


def write(d, names, Xte, yte, out):
    with open(os.path.join(d, "test.csv"), "w") as f:
        f.write(",".join(names + ["label"]) + "\n")
        for row, label in zip(Xte, yte):
            f.write(",".join([f32(v) for v in row] + [str(int(label))]) + "\n")
    with open(os.path.join(d, "reference.csv"), "w") as f:
        f.write(",".join(["row"] + [f"out{i}" for i in range(out.shape[1])]) + "\n")
        for i, row in enumerate(out):
            f.write(",".join([str(i)] + [repr(float(v)) for v in row]) + "\n")


def make(name, model, data, n_test, epochs, lr, source=None, onnx=False):
    seed(0)
    Xtr, Xte, ytr, yte, names = load(data, n_test)
    model = train(model, Xtr, ytr, epochs, lr)
    d = os.path.join(ROOT, name)
    os.makedirs(d, exist_ok=True)
    if onnx:
        torch.onnx.export(model, torch.zeros(2, Xte.shape[1]), os.path.join(d, "model.onnx"), opset_version=13,
                          input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, do_constant_folding=True)
    else:
        torch.save(model.state_dict(), os.path.join(d, "model.state_dict.pt"))
    if source:
        with open(os.path.join(d, "model.py"), "w") as f:
            f.write(source)
    with torch.no_grad():
        out = model(torch.from_numpy(Xte)).double().numpy()
    write(d, names, Xte, yte, out)
    acc = float(np.mean(out.argmax(1) == yte))
    print(f"{name}: {len(Xte)} test rows, PyTorch accuracy {acc:.3f}, output range {out.min():.2f}..{out.max():.2f}")


def main():
    seed(0)
    make("residual", ResidualNet(), "wine", 40, 300, 0.01, source=RESIDUAL_SOURCE)
    seed(0)
    make("elu", EluNet(), "wine", 40, 300, 0.01, source=ELU_SOURCE)
    seed(0)
    make("bn", bn_net(), "digits", 60, 1000, 0.03, onnx=True)


if __name__ == "__main__":
    main()
