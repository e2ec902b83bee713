#!/usr/bin/python3
"""Fixtures for the sequence models of issue 20, made with real PyTorch (Debian python3-torch 1.13):

    /usr/bin/python3 scripts/make-sequence-fixtures.py

- gru_sine: a forecaster, nn.GRU(1, 16, batch_first=True) over a window of 16 values of a noisy sine plus a
  trend, then nn.Linear(16, 1): the next value (regression). forward: out, h = self.gru(x); fc(out[:, -1, :]).
- lstm_cls: a sequence classifier, nn.LSTM(2, 12) (batch_first=False) over 10 steps of 2 features, then
  nn.Linear(12, 3): which of three shapes (rising, falling, oscillating) the window holds. forward uses h[-1].
- gru2_sine: a two-layer GRU forecaster, fc(h[-1]).
- gru_bi_cls: a bidirectional GRU sequence classifier over the shapes data, fc(torch.cat((h[-2], h[-1]), dim=1)).
- lstm2_sine: a two-layer LSTM forecaster over the sine/trend data, fc(out.reshape(out.shape[0], -1)): the
  whole output sequence flattened into the Linear.
- gru_bi_steps: a bidirectional GRU whose output sequence goes through a per-step Linear + ReLU, flattened
  into the last Linear (self.head(torch.relu(self.proj(out)).flatten(1))).
Each is written as a state_dict .pt with model.py, ONNX (opset 13, the GRU/LSTM op), a whole-model .pt, and
TorchScript (trace; the newer ones also script and a .safetensors of the state_dict), beside test.csv (the
window flattened step by step, C order of [T, F], and the label) and PyTorch's own outputs for the test rows
(reference.csv). Output: test/fixtures/seq/<name>/. With names as arguments, only those are (re)made.
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn

from fixture_common import add_formats, fixture_dir, module_source, save_sequence_fixture, train_sequence

torch.manual_seed(0)
ONLY = set(sys.argv[1:])
ROOT = fixture_dir("seq")


class Forecaster(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(1, 16, batch_first=True)
        self.fc = nn.Linear(16, 1)

    def forward(self, x):
        out, h = self.gru(x)
        return self.fc(out[:, -1, :])


class SeqClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(2, 12)
        self.head = nn.Linear(12, 3)

    def forward(self, x):  # x: [T, N, F] (batch_first=False)
        out, (h, c) = self.lstm(x)
        return self.head(h[-1])


def sine_data(n, T=16, seed=0):
    rng = np.random.default_rng(seed)
    t0 = rng.uniform(0, 20, size=n)
    k = np.arange(T + 1)
    trend = rng.uniform(-0.05, 0.05, size=n)
    series = np.sin(0.5 * (t0[:, None] + k[None, :])) + trend[:, None] * k[None, :] + rng.normal(0, 0.05, size=(n, T + 1))
    return series[:, :T, None].astype(np.float32), series[:, T:].astype(np.float32)


def shape_data(n, T=10, seed=1):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n)
    k = np.arange(T) / T
    x = np.zeros((n, T, 2), dtype=np.float32)
    for i in range(n):
        a = rng.uniform(0.5, 1.5)
        base = [a * k, a * (1 - k), a * np.sin(2 * np.pi * 2 * k)][y[i]]
        x[i, :, 0] = base + rng.normal(0, 0.1, size=T)
        x[i, :, 1] = rng.normal(0, 0.3, size=T) + (y[i] - 1) * 0.2
    return x, y


def wanted(name):
    return not ONLY or name in ONLY


def save(name, model, x_test, y_test, example, label_name, batch_first, more=False):
    save_sequence_fixture(os.path.join(ROOT, name), model, module_source(type(model)), x_test, y_test, label_name,
                          batch_first, example=example, script=more, safetensors=more)


x, y = sine_data(600)
xs, ys = shape_data(600)
if wanted("gru_sine"):
  gru = Forecaster()
  print("gru loss", train_sequence(gru, x[:500], y[:500], nn.MSELoss(), 300))
  save("gru_sine", gru, x[500:540], y[500:540, 0], torch.tensor(x[:1]), "next", True)

if wanted("lstm_cls"):
  lstm = SeqClassifier()
  print("lstm loss", train_sequence(lstm, xs[:500], ys[:500], nn.CrossEntropyLoss(), 200, batch_first=False))
  with torch.no_grad():
      acc = (lstm(torch.tensor(xs[500:]).transpose(0, 1)).argmax(1).numpy() == ys[500:]).mean()
  print("lstm test accuracy", acc)
  save("lstm_cls", lstm, xs[500:540], ys[500:540], torch.tensor(xs[:1]).transpose(0, 1), "label", False)


# gru2_sine: a two-layer GRU (dropout between the layers: nothing at eval), forward takes h[-1]
class Forecaster2(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(1, 8, num_layers=2, batch_first=True, dropout=0.1)
        self.fc = nn.Linear(8, 1)

    def forward(self, x):
        out, h = self.gru(x)
        return self.fc(h[-1])


if wanted("gru2_sine"):
  gru2 = Forecaster2()
  print("gru2 loss", train_sequence(gru2, x[:500], y[:500], nn.MSELoss(), 200))
  save("gru2_sine", gru2, x[500:540], y[500:540, 0], torch.tensor(x[:1]), "next", True)


# issue 20, part 2: bidirectional, two-layer LSTM, whole-sequence heads
class BiClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(2, 8, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(16, 3)

    def forward(self, x):
        out, h = self.gru(x)
        return self.fc(torch.cat((h[-2], h[-1]), dim=1))


class Forecaster2L(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(1, 8, num_layers=2, batch_first=True)
        self.fc = nn.Linear(16 * 8, 1)

    def forward(self, x):
        out, (h, c) = self.lstm(x)
        return self.fc(out.reshape(out.shape[0], -1))


class BiSteps(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(2, 6, batch_first=True, bidirectional=True)
        self.proj = nn.Linear(12, 2)
        self.head = nn.Linear(10 * 2, 3)

    def forward(self, x):
        out, _ = self.gru(x)
        return self.head(torch.relu(self.proj(out)).flatten(1))


def accuracy(model, xt, yt):
    with torch.no_grad():
        return (model(torch.tensor(xt)).argmax(1).numpy() == yt).mean()


if wanted("gru_bi_cls"):
    torch.manual_seed(1)
    bi = BiClassifier()
    print("gru_bi loss", train_sequence(bi, xs[:500], ys[:500], nn.CrossEntropyLoss(), 200))
    print("gru_bi test accuracy", accuracy(bi, xs[500:], ys[500:]))
    save("gru_bi_cls", bi, xs[500:540], ys[500:540], torch.tensor(xs[:1]), "label", True, more=True)

if wanted("lstm2_sine"):
    torch.manual_seed(2)
    l2 = Forecaster2L()
    print("lstm2 loss", train_sequence(l2, x[:500], y[:500], nn.MSELoss(), 250))
    save("lstm2_sine", l2, x[500:540], y[500:540, 0], torch.tensor(x[:1]), "next", True, more=True)

if wanted("gru_bi_steps"):
    torch.manual_seed(3)
    st = BiSteps()
    print("gru_bi_steps loss", train_sequence(st, xs[:500], ys[:500], nn.CrossEntropyLoss(), 200))
    print("gru_bi_steps test accuracy", accuracy(st, xs[500:], ys[500:]))
    save("gru_bi_steps", st, xs[500:540], ys[500:540], torch.tensor(xs[:1]), "label", True, more=True)

# the formats the first fixtures lack (issue 20's format matrix): scripted.pt and model.safetensors from whole.pt
if wanted("formats"):
    for name in ("gru_sine", "lstm_cls", "gru2_sine"):
        add_formats(os.path.join(ROOT, name))
