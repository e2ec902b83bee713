#!/usr/bin/python3
"""Graph-shaped CNNs for issue 19 (residual adds and channel concat inside a conv stack), trained briefly by real
PyTorch on scikit-learn's digits 8x8 (run with /usr/bin/python3: torch 1.13).

Writes test/fixtures/convgraph/<name>/: model.py (the nn.Module source ml2sc reads), model.state_dict.pt,
model.onnx (opset 13: Add of two conv tensors, Concat axis=1), model.trace.pt and model.script.pt (TorchScript
trace and script), model.whole.pt (torch.save of the module: read with model.py as model.source), test.csv
(30 held-out rows: the 64 pixels / 16 in C order, then the label) and reference.csv (PyTorch's float outputs).
- residual_digits: a ResNet-style basic block as a custom module (identity skip, F.relu(conv2(h) + x)), then an
  inline residual add whose skip goes through a 1x1 stride-2 conv (a downsample), max pool, linear.
- concat_digits:   two conv branches of one tensor (1x1 and 3x3) concatenated along the channels, max pool, linear.
The outputs are committed, so tests never need torch.
"""
import importlib.util
import os
import sys

import torch

sys.dont_write_bytecode = True

from fixture_common import export_onnx, fixture_dir, load, seed, train, write_classifier_outputs, write_text

RESIDUAL_SOURCE = '''import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        h = F.relu(self.conv1(x))
        return F.relu(self.conv2(h) + x)


class ResidualCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 6, 3, padding=1)
        self.block = Block(6)
        self.conv3 = nn.Conv2d(6, 8, 3, stride=2, padding=1)
        self.down = nn.Conv2d(6, 8, 1, stride=2)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = F.relu(self.stem(x))
        x = self.block(x)
        x = F.relu(self.conv3(x) + self.down(x))
        x = F.max_pool2d(x, 2)
        x = torch.flatten(x, 1)
        return self.fc(x)
'''

CONCAT_SOURCE = '''import torch
import torch.nn as nn
import torch.nn.functional as F


class ConcatCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 4, 3, padding=1)
        self.a = nn.Conv2d(4, 4, 1)
        self.b = nn.Conv2d(4, 4, 3, padding=1)
        self.fc = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.stem(x))
        x = torch.cat([F.relu(self.a(x)), F.relu(self.b(x))], dim=1)
        x = F.max_pool2d(x, 2)
        return self.fc(torch.flatten(x, 1))
'''

def module_of(d, source):
    """model.py written into the fixture folder and imported as the module `model` (TorchScript's script needs
    the classes' source file; torch.save of a whole model pickles them as model.<Class>, as a user's model.py does)."""
    path = os.path.join(d, "model.py")
    write_text(path, source)
    spec = importlib.util.spec_from_file_location("model", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["model"] = mod
    spec.loader.exec_module(mod)
    return mod


def make(name, cls, source):
    seed(0)
    Xtr, Xte, ytr, yte, names = load("digits", 30)
    d = fixture_dir("convgraph", name)
    os.makedirs(d, exist_ok=True)
    model = train(getattr(module_of(d, source), cls)(), Xtr, ytr, 80, 0.01, shape=(1, 8, 8))
    torch.save(model.state_dict(), os.path.join(d, "model.state_dict.pt"))
    example = torch.from_numpy(Xte[:2]).reshape(-1, 1, 8, 8)
    export_onnx(model, example, os.path.join(d, "model.onnx"))
    torch.jit.trace(model, example).save(os.path.join(d, "model.trace.pt"))
    torch.jit.script(model).save(os.path.join(d, "model.script.pt"))
    torch.save(model, os.path.join(d, "model.whole.pt"))
    write_classifier_outputs(d, name, model, Xte, yte, names, shape=(1, 8, 8))


def main():
    make("residual_digits", "ResidualCNN", RESIDUAL_SOURCE)
    make("concat_digits", "ConcatCNN", CONCAT_SOURCE)


if __name__ == "__main__":
    main()
