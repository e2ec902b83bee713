"""Graph models saved as TorchScript only (trace and script, no model.py beside them): ml2sc reads the
residual sums (torch.add), concatenations (torch.cat(…, 1)) and tuple returns from the archive's own code.
Writes test/fixtures/graph/ts_graph/ (one output) and ts_heads/ (two outputs: class logits + a value), each
with trace.pt, script.pt, test.csv and reference.csv (PyTorch's outputs; for ts_heads the two heads side by
side, logits first). Run: /usr/bin/python3 scripts/make-torchscript-graph-fixtures.py
"""
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from fixture_common import fixture_dir, load, seed, train, write_reference_csv, write_test_csv


class TsGraph(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(13, 16)
        self.fc2 = nn.Linear(16, 16)
        self.fc3 = nn.Linear(16, 8)
        self.fc4 = nn.Linear(8, 8)
        self.out = nn.Linear(16, 3)

    def forward(self, x):
        h = F.relu(self.fc1(x))
        r = h + F.relu(self.fc2(h))
        z = torch.tanh(self.fc3(r))
        c = torch.cat([z, F.relu(self.fc4(z))], dim=1)
        return self.out(c)


class TsHeads(TsGraph):
    def __init__(self):
        super().__init__()
        self.value = nn.Linear(16, 1)

    def forward(self, x):
        h = F.relu(self.fc1(x))
        r = h + F.relu(self.fc2(h))
        z = torch.tanh(self.fc3(r))
        c = torch.cat([z, F.relu(self.fc4(z))], dim=1)
        return self.out(c), self.value(c)


def main():
    Xtr, Xte, ytr, yte, names = load("wine", 30)
    for name, cls in [("ts_graph", TsGraph), ("ts_heads", TsHeads)]:
        seed(0)
        model = cls()
        if cls is TsGraph:
            train(model, Xtr, ytr, 300, 0.01)
        model.eval()
        d = fixture_dir("graph", name)
        os.makedirs(d, exist_ok=True)
        x = torch.from_numpy(Xte)
        torch.jit.trace(model, x[:2]).save(os.path.join(d, "trace.pt"))
        torch.jit.script(model).save(os.path.join(d, "script.pt"))
        with torch.no_grad():
            y = model(x)
        out = torch.cat(list(y), dim=1) if isinstance(y, tuple) else y
        write_test_csv(d, names + ["label"], Xte, [[str(int(label))] for label in yte])
        write_reference_csv(d, out.double().numpy())
        acc = float((out[:, :3].argmax(1).numpy() == yte).mean())
        print(f"{name}: {len(Xte)} rows, accuracy of the class output {acc:.3f}")


if __name__ == "__main__":
    main()
