#!/usr/bin/python3
"""Issue 19: nn.ModuleList and nn.ModuleDict iterated in forward(), as tutorials write them, trained by real
PyTorch (run with /usr/bin/python3, torch 1.13). Writes test/fixtures/graph/modulelist_wine/:
model.py (the source ml2sc reads), model.state_dict.pt, model.whole.pt (torch.save(model), read with
model.source), model.trace.pt, model.script.pt, model.onnx, test.csv and reference.csv (PyTorch's outputs).
The model's loops: `for blk in self.blocks: x = x + blk(x)` (a comprehension-built list of custom blocks),
`for i, layer in enumerate(self.layers)` with `if i < len(self.layers) - 1: x = F.relu(x)` (a list filled by
`.append` in a loop), `for m in self.post.values()` and `self.mix["first"]` (ModuleDicts), and
`for layer in self.heads[:-1]` then `self.heads[-1](x)`.
torch 1.13's jit.script mis-compiles the slice `self.heads[:-1]` (the scripted model fails on its own inputs),
so model.script.pt scripts ListNetScript, the same weights with that loop written as enumerate + an index
condition; its outputs are checked equal to the eager model's before saving.
"""
import importlib.util
import os
import sys

import torch

from fixture_common import export_onnx, fixture_dir, load, seed, train, write_reference_csv, write_test_csv

SOURCE = '''import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.fc = nn.Linear(dim, dim)

    def forward(self, x):
        return F.relu(self.fc(x))


class ListNet(nn.Module):
    """nn.ModuleList and nn.ModuleDict iterated in forward()."""

    def __init__(self, n_in=13, hidden=16, n_out=3, depth=2):
        super().__init__()
        self.inp = nn.Linear(n_in, hidden)
        self.blocks = nn.ModuleList([Block(hidden) for _ in range(depth)])
        self.layers = nn.ModuleList()
        for _ in range(3):
            self.layers.append(nn.Linear(hidden, hidden))
        self.post = nn.ModuleDict({"a": nn.Linear(hidden, hidden), "b": nn.Linear(hidden, hidden)})
        self.mix = nn.ModuleDict({"first": nn.Linear(hidden, hidden)})
        self.heads = nn.ModuleList([nn.Linear(hidden, 8), nn.Linear(8, 8), nn.Linear(8, n_out)])

    def forward(self, x):
        x = F.relu(self.inp(x))
        for blk in self.blocks:
            x = x + blk(x)
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = F.relu(x)
        for m in self.post.values():
            x = torch.tanh(m(x))
        x = x + self.mix["first"](x)
        for layer in self.heads[:-1]:
            x = F.relu(layer(x))
        return self.heads[-1](x)


class ListNetScript(ListNet):
    """The same model with the heads loop written without a slice (torch 1.13's jit.script mis-compiles it)."""

    def forward(self, x):
        x = F.relu(self.inp(x))
        for blk in self.blocks:
            x = x + blk(x)
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = F.relu(x)
        for m in self.post.values():
            x = torch.tanh(m(x))
        x = x + self.mix["first"](x)
        for j, head in enumerate(self.heads):
            x = head(x)
            if j < len(self.heads) - 1:
                x = F.relu(x)
        return x
'''


def main():
    d = fixture_dir("graph", "modulelist_wine")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "model.py"), "w") as f:
        f.write(SOURCE)
    # imported from its file: jit.script reads the classes' source, and the pickle names model.ListNet
    spec = importlib.util.spec_from_file_location("model", os.path.join(d, "model.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    sys.modules["model"] = mod
    Xtr, Xte, ytr, yte, names = load("wine", 40)
    seed(0)
    model = train(mod.ListNet(), Xtr, ytr, 300, 0.01)
    x = torch.from_numpy(Xte)
    torch.save(model.state_dict(), os.path.join(d, "model.state_dict.pt"))
    torch.save(model, os.path.join(d, "model.whole.pt"))
    torch.jit.trace(model, x[:2]).save(os.path.join(d, "model.trace.pt"))
    scriptable = mod.ListNetScript()
    scriptable.load_state_dict(model.state_dict())
    scriptable.eval()
    scripted = torch.jit.script(scriptable)
    export_onnx(model, x[:2], os.path.join(d, "model.onnx"))
    with torch.no_grad():
        out = model(x)
        assert torch.equal(scripted(x), out), "the scripted model differs from the eager one"
    scripted.save(os.path.join(d, "model.script.pt"))
    write_test_csv(d, names + ["label"], Xte, [[str(int(label))] for label in yte])
    write_reference_csv(d, out.double().numpy())
    print(f"modulelist_wine: {len(Xte)} rows, accuracy {float((out.argmax(1).numpy() == yte).mean()):.3f}")


if __name__ == "__main__":
    main()
