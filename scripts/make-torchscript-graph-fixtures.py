"""Graph models saved as TorchScript only (trace and script, no model.py beside them): ml2sc reads the
residual sums (torch.add), concatenations (torch.cat(…, 1)) and tuple returns from the archive's own code.
Writes test/fixtures/graph/ts_graph/ (one output) and ts_heads/ (two outputs: class logits + a value), each
with trace.pt, script.pt, test.csv and reference.csv (PyTorch's outputs; for ts_heads the two heads side by
side, logits first).
nn.Embedding from TorchScript and a whole .pt: the embed_wine model of make-layer-fixtures.py (the bench's
embedding row; its model.py and state_dict loaded, not retrained) saved as model.trace.pt, model.script.pt and
model.whole.pt (torch.save(model), read with model.source) beside its other formats; and ts_embed_wide, one
nn.Embedding shared by two category columns, `self.emb(x[:, :2].to(torch.int64)).flatten(1)`, as trace.pt,
script.pt and model.py + model.state_dict.pt, and as model.onnx (`... embed-onnx`: its saved state_dict loaded,
not retrained, and exported; ONNX writes the lookup as a Gather by a two-column index, then Flatten).
Run: /usr/bin/python3 scripts/make-torchscript-graph-fixtures.py (`... embed`: the embedding fixtures only)
"""
import importlib.util
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from fixture_common import export_onnx, fixture_dir, load, seed, train, write_reference_csv, write_test_csv


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


EMBED_WIDE_SOURCE = '''import torch
import torch.nn as nn
import torch.nn.functional as F


class EmbedWide(nn.Module):
    """Columns 0 and 1 hold category indices (below 6), looked up in one shared table; 11 numeric columns follow."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(6, 3)
        self.fc1 = nn.Linear(2 * 3 + 11, 16)
        self.out = nn.Linear(16, 3)

    def forward(self, x):
        e = self.emb(x[:, :2].to(torch.int64)).flatten(1)
        h = torch.cat([e, x[:, 2:]], dim=1)
        return self.out(F.relu(self.fc1(h)))
'''


def layer_fixtures():
    """scripts/make-layer-fixtures.py as a module (its wine() bins the two categorical columns)."""
    spec = importlib.util.spec_from_file_location("layer_fixtures", os.path.join(os.path.dirname(os.path.abspath(__file__)), "make-layer-fixtures.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def embed_formats():
    """embed_wine as it is (the bench row): TorchScript trace and script, and the whole pickled module."""
    d = fixture_dir("layers", "embed_wine")
    sys.path.insert(0, d)
    from model import TabularNet  # noqa: E402 (the fixture's own model.py: the pickle names class model.TabularNet)
    model = TabularNet()
    model.load_state_dict(torch.load(os.path.join(d, "model.state_dict.pt")))
    model.eval()
    _, Xte, _, _, _ = layer_fixtures().wine(40, True)
    x = torch.from_numpy(Xte)
    torch.jit.trace(model, x[:2]).save(os.path.join(d, "model.trace.pt"))
    torch.jit.script(model).save(os.path.join(d, "model.script.pt"))
    torch.save(model, os.path.join(d, "model.whole.pt"))
    with torch.no_grad():
        y = model(x).double().numpy()
    ref = [[float(v) for v in line.split(",")[1:]] for line in open(os.path.join(d, "reference.csv")).read().split("\n")[1:] if line]
    print(f"embed_wine: trace/script/whole saved; largest difference from reference.csv {abs(y - ref).max():.2e}")


def embed_wide():
    Xtr, Xte, ytr, yte, names = layer_fixtures().wine(40, True)
    d = fixture_dir("graph", "ts_embed_wide")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "model.py"), "w") as f:
        f.write(EMBED_WIDE_SOURCE)
    # imported from its file: torch.jit.script reads the class's source
    spec = importlib.util.spec_from_file_location("embed_wide_model", os.path.join(d, "model.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    seed(0)
    model = train(mod.EmbedWide(), Xtr, ytr, 300, 0.01)
    x = torch.from_numpy(Xte)
    torch.jit.trace(model, x[:2]).save(os.path.join(d, "trace.pt"))
    torch.jit.script(model).save(os.path.join(d, "script.pt"))
    torch.save(model.state_dict(), os.path.join(d, "model.state_dict.pt"))
    with torch.no_grad():
        out = model(x)
    write_test_csv(d, names + ["label"], Xte, [[str(int(label))] for label in yte])
    write_reference_csv(d, out.double().numpy())
    print(f"ts_embed_wide: {len(Xte)} rows, accuracy {float((out.argmax(1).numpy() == yte).mean()):.3f}")


def embed_wide_onnx():
    """ts_embed_wide's trained weights (model.state_dict.pt) exported to ONNX; checked against reference.csv."""
    d = fixture_dir("graph", "ts_embed_wide")
    spec = importlib.util.spec_from_file_location("embed_wide_model", os.path.join(d, "model.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    model = mod.EmbedWide()
    model.load_state_dict(torch.load(os.path.join(d, "model.state_dict.pt")))
    model.eval()
    _, Xte, _, _, _ = layer_fixtures().wine(40, True)
    x = torch.from_numpy(Xte)
    export_onnx(model, x[:2], os.path.join(d, "model.onnx"))
    with torch.no_grad():
        y = model(x).double().numpy()
    ref = [[float(v) for v in line.split(",")[1:]] for line in open(os.path.join(d, "reference.csv")).read().split("\n")[1:] if line]
    print(f"ts_embed_wide: model.onnx saved; largest difference from reference.csv {abs(y - ref).max():.2e}")


def main():
    if sys.argv[1:] == ["embed-onnx"]:
        return embed_wide_onnx()
    if sys.argv[1:] == ["embed"]:
        embed_formats()
        return embed_wide()
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
    embed_formats()
    embed_wide()
    embed_wide_onnx()


if __name__ == "__main__":
    main()
