#!/usr/bin/python3
"""Issue 19 (layers part): fixtures trained by real PyTorch (run with /usr/bin/python3, torch 1.13).

Writes test/fixtures/layers/<name>/: model.state_dict.pt, model.py (the nn.Module source ml2sc reads),
model.onnx when torch can export it, test.csv (held-out rows, label last), reference.csv (PyTorch's
float outputs for those rows) and meta.json (input shape for the CNNs).
- embed_wine: two categorical columns (wine's proline and color intensity binned into 6 and 4 categories)
  through nn.Embedding(6, 3) and nn.Embedding(4, 2), concatenated with the 11 other standardised features
- block_wine: a residual MLP of custom Block modules, conditional submodules on constructor flags
  (`nn.Linear(...) if use_proj else nn.Identity()`, `if self.use_skip:` in forward)
- pools_digits: 8x8 digits CNN with MaxPool2d(ceil_mode=True), AvgPool2d(ceil_mode=True, padding=1)
  and AdaptiveMaxPool2d(2) (exported to ONNX)
- adaptive_digits: AdaptiveMaxPool2d(3) over 8x8 and AdaptiveAvgPool2d(3) over 4x4 (overlapping windows
  of varying size; torch cannot export these to ONNX)
- pools_signal: digits as 1-D signals of 64: Conv1d, AvgPool1d(ceil_mode=True, padding=1), AdaptiveMaxPool1d(4)
- pools_seq: an nn.Sequential CNN with the ceil_mode pools and AdaptiveMaxPool2d(2), saved whole (torch.save),
  traced and scripted (TorchScript): the formats that carry their own module tree
Usage: make-layer-fixtures.py [name ...] (default: all)
The outputs are committed, so tests never need torch.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

from fixture_common import (export_onnx, fixture_dir, load, seed, split, standardize, train, write_classifier_outputs,
                            write_text)

ROOT = fixture_dir("layers")

EMBED_SOURCE = '''import torch
import torch.nn as nn
import torch.nn.functional as F


class TabularNet(nn.Module):
    """Columns 0 and 1 hold category indices; the other 11 are numeric."""

    def __init__(self, n_a=6, n_b=4, n_num=11, hidden=16, n_out=3):
        super().__init__()
        self.emb_a = nn.Embedding(n_a, 3)
        self.emb_b = nn.Embedding(n_b, 2)
        self.fc1 = nn.Linear(3 + 2 + n_num, hidden)
        self.out = nn.Linear(hidden, n_out)

    def forward(self, x):
        a = self.emb_a(x[:, 0].long())
        b = self.emb_b(x[:, 1].long())
        h = torch.cat([a, b, x[:, 2:]], dim=1)
        h = F.relu(self.fc1(h))
        return self.out(h)
'''

BLOCK_SOURCE = '''import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, dim, use_skip=True):
        super().__init__()
        self.use_skip = use_skip
        self.fc = nn.Linear(dim, dim)

    def forward(self, x):
        h = F.relu(self.fc(x))
        if self.use_skip:
            h = x + h
        return h


class BlockNet(nn.Module):
    def __init__(self, n_in=13, hidden=16, n_out=3, use_proj=True, use_dropout=False):
        super().__init__()
        self.proj = nn.Linear(n_in, hidden) if use_proj else nn.Identity()
        self.blocks = nn.Sequential(Block(hidden), Block(hidden, use_skip=False))
        self.last = Block(hidden)
        self.drop = nn.Dropout(0.1) if use_dropout else nn.Identity()
        self.head = nn.Linear(hidden, n_out)

    def forward(self, x):
        x = F.relu(self.proj(x))
        x = self.blocks(x)
        x = self.drop(self.last(x))
        return self.head(x)
'''

POOLS_SOURCE = '''import torch
import torch.nn as nn
import torch.nn.functional as F


class PoolNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.pool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = nn.Conv2d(4, 6, 3, padding=1)
        self.pool2 = nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True)
        self.pool3 = nn.AdaptiveMaxPool2d(1)
        self.fc = nn.Linear(6, 10)

    def forward(self, x):
        x = self.pool1(F.relu(self.conv1(x)))
        x = self.pool2(F.relu(self.conv2(x)))
        x = torch.flatten(self.pool3(x), 1)
        return self.fc(x)
'''

ADAPTIVE_SOURCE = '''import torch
import torch.nn as nn
import torch.nn.functional as F


class AdaptiveNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.pool1 = nn.AdaptiveMaxPool2d(3)
        self.conv2 = nn.Conv2d(4, 6, 2, padding=1)
        self.pool2 = nn.AdaptiveAvgPool2d((3, 3))
        self.fc = nn.Linear(54, 10)

    def forward(self, x):
        x = self.pool1(F.relu(self.conv1(x)))
        x = self.pool2(F.relu(self.conv2(x)))
        x = x.view(x.size(0), -1)
        return self.fc(x)
'''

SIGNAL_SOURCE = '''import torch
import torch.nn as nn
import torch.nn.functional as F


class SignalNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(1, 4, 5, stride=2)
        self.pool = nn.AvgPool1d(4, stride=3, padding=1, ceil_mode=True)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv(x)))
        x = F.adaptive_max_pool1d(x, 4)
        return self.fc(torch.flatten(x, 1))
'''

scope = {}
for src in (EMBED_SOURCE, BLOCK_SOURCE, POOLS_SOURCE, ADAPTIVE_SOURCE, SIGNAL_SOURCE):
    exec(src, scope)


def wine(n_test, categorical):
    if not categorical:
        return load("wine", n_test)
    Xtr, Xte, ytr, yte = split("wine", n_test)
    Ztr, Zte = standardize(Xtr, Xte)
    # proline (12) in 6 quantile bins, colour intensity (9) in 4: category indices in columns 0 and 1
    def bins(col, k):
        edges = np.quantile(Xtr[:, col], np.linspace(0, 1, k + 1)[1:-1])
        return np.digitize(Xtr[:, col], edges), np.digitize(Xte[:, col], edges)
    atr, ate = bins(12, 6)
    btr, bte = bins(9, 4)
    rest = [i for i in range(13) if i not in (9, 12)]
    Ttr = np.column_stack([atr, btr, Ztr[:, rest]]).astype(np.float32)
    Tte = np.column_stack([ate, bte, Zte[:, rest]]).astype(np.float32)
    return Ttr, Tte, ytr, yte, ["proline_bin", "color_bin"] + [f"x{i}" for i in rest]


def digits(n_test):
    Xtr, Xte, ytr, yte, _ = load("digits", n_test)
    return Xtr, Xte, ytr, yte, [f"p{i}" for i in range(64)]


def write_meta(d, shape, onnx, cls):
    write_text(os.path.join(d, "meta.json"), json.dumps({"inputShape": shape, "onnx": onnx, "class": cls}) + "\n")


def make(name, cls, source, data, shape, epochs, lr, onnx=True):
    seed(0)
    Xtr, Xte, ytr, yte, names = data
    model = train(scope[cls](), Xtr, ytr, epochs, lr, shape)
    d = os.path.join(ROOT, name)
    os.makedirs(d, exist_ok=True)
    torch.save(model.state_dict(), os.path.join(d, "model.state_dict.pt"))
    write_text(os.path.join(d, "model.py"), source)
    exported = False
    if onnx:
        try:
            export_onnx(model, torch.zeros(2, *shape), os.path.join(d, "model.onnx"))
            exported = True
        except Exception as e:  # noqa: BLE001
            print(f"{name}: no ONNX ({str(e).splitlines()[0][:100]})")
    write_classifier_outputs(d, name, model, Xte, yte, names, shape)
    write_meta(d, list(shape), exported, cls)


def make_seq():
    seed(0)
    Xtr, Xte, ytr, yte, names = digits(30)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2, ceil_mode=True),
                          nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(), nn.AvgPool2d(3, 2, padding=1, ceil_mode=True),
                          nn.AdaptiveMaxPool2d(2), nn.Flatten(), nn.Linear(24, 10))
    model = train(model, Xtr, ytr, 150, 0.02, (1, 8, 8))
    d = os.path.join(ROOT, "pools_seq")
    os.makedirs(d, exist_ok=True)
    x = torch.from_numpy(Xte).reshape(-1, 1, 8, 8)
    torch.save(model, os.path.join(d, "model.whole.pt"))
    torch.jit.trace(model, x).save(os.path.join(d, "model.trace.pt"))
    torch.jit.script(model).save(os.path.join(d, "model.script.pt"))
    write_classifier_outputs(d, "pools_seq", model, Xte, yte, names, (1, 8, 8))
    write_meta(d, [1, 8, 8], False, "Sequential")


def main():
    only = set(sys.argv[1:])
    if only == {"pools_seq"}:
        return make_seq()
    make("embed_wine", "TabularNet", EMBED_SOURCE, wine(40, True), (13,), 300, 0.01)
    make("block_wine", "BlockNet", BLOCK_SOURCE, wine(40, False), (13,), 300, 0.01)
    make("pools_digits", "PoolNet", POOLS_SOURCE, digits(30), (1, 8, 8), 150, 0.02)
    make("adaptive_digits", "AdaptiveNet", ADAPTIVE_SOURCE, digits(30), (1, 8, 8), 150, 0.02)
    make("pools_signal", "SignalNet", SIGNAL_SOURCE, digits(30), (1, 64), 150, 0.02)
    make_seq()


if __name__ == "__main__":
    main()
