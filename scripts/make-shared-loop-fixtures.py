#!/usr/bin/python3
"""Issue 19: one nn.Linear applied three times in a loop (`for _ in range(3): x = F.relu(self.fc(x))`), trained
by real PyTorch on wine (run with /usr/bin/python3, torch 1.13). Writes test/fixtures/graph/shared_loop_wine/:
model.py, model.state_dict.pt, model.onnx (the export unrolls the loop: three Gemm nodes on the initializer
fc.weight), model.trace.pt (trace calls fc.forward, fc.forward1, fc.forward2), test.csv and reference.csv
(PyTorch's outputs), and model.script.pt (torch.jit.script keeps the `for` loop: `for _0 in range(3):` in its
code, which ml2sc unrolls). data_loop.script.pt is an untrained net whose loop runs `x.size(1) - 12` times, a
trip count computed from the input, which ml2sc refuses.
"""
import importlib.util
import os

import torch

from fixture_common import export_onnx, fixture_dir, load, seed, train, write_reference_csv, write_test_csv

SOURCE = '''import torch
import torch.nn as nn
import torch.nn.functional as F


class LoopNet(nn.Module):
    """One hidden Linear applied three times: stored once on chain."""

    def __init__(self):
        super().__init__()
        self.inp = nn.Linear(13, 16)
        self.fc = nn.Linear(16, 16)
        self.out = nn.Linear(16, 3)

    def forward(self, x):
        x = F.relu(self.inp(x))
        for _ in range(3):
            x = F.relu(self.fc(x))
        return self.out(x)
'''


class DataLoopNet(torch.nn.Module):
    """A loop whose trip count comes from the input's width: not a constant."""

    def __init__(self):
        super().__init__()
        self.inp = torch.nn.Linear(13, 16)
        self.fc = torch.nn.Linear(16, 16)
        self.out = torch.nn.Linear(16, 3)

    def forward(self, x):
        n = x.size(1) - 12
        x = torch.relu(self.inp(x))
        for _ in range(n):
            x = torch.relu(self.fc(x))
        return self.out(x)


def main():
    d = fixture_dir("graph", "shared_loop_wine")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "model.py"), "w") as f:
        f.write(SOURCE)
    spec = importlib.util.spec_from_file_location("model", os.path.join(d, "model.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    Xtr, Xte, ytr, yte, names = load("wine", 40)
    seed(0)
    model = train(mod.LoopNet(), Xtr, ytr, 300, 0.01)
    x = torch.from_numpy(Xte)
    torch.save(model.state_dict(), os.path.join(d, "model.state_dict.pt"))
    torch.jit.trace(model, x[:2]).save(os.path.join(d, "model.trace.pt"))
    torch.jit.script(model).save(os.path.join(d, "model.script.pt"))
    export_onnx(model, x[:2], os.path.join(d, "model.onnx"))
    seed(0)
    torch.jit.script(DataLoopNet()).save(os.path.join(d, "data_loop.script.pt"))
    with torch.no_grad():
        out = model(x)
    write_test_csv(d, names + ["label"], Xte, [[str(int(label))] for label in yte])
    write_reference_csv(d, out.double().numpy())
    print(f"shared_loop_wine: {len(Xte)} rows, accuracy {float((out.argmax(1).numpy() == yte).mean()):.3f}")


if __name__ == "__main__":
    main()
