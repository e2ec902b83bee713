#!/usr/bin/python3
"""Fixtures for the activations of issue 19, made with real PyTorch (Debian python3-torch 1.13):

    /usr/bin/python3 scripts/make-activation-fixtures.py

For each activation, a small MLP (13 → 12 → 8 → 3) trained on scikit-learn's wine data, the activation used
twice: once as a module (self.act1 = nn.X(...)) and once as a functional call in forward (F.x(...)). Written as
ONNX (opset 13: GELU, SiLU, Mish and Hardswish come out as multi-node patterns), a whole-model .pt (an
nn.Sequential with the same weights), TorchScript script and trace, and a state_dict .pt with model.py, beside
the held-out test rows (test.csv) and PyTorch's outputs for them (reference.csv). Output: test/fixtures/acts/.
"""
import importlib.util
import json
import sys
import os
import warnings
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn import datasets
from sklearn.model_selection import train_test_split

warnings.filterwarnings("ignore")
torch.set_num_threads(1)
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "acts")

# name: (module constructor, functional call in forward, model.layers entry, the module for the Sequential twin)
ACTS = {
    "relu6": ("nn.ReLU6()", "F.relu6(x)", "relu6"),
    "hardtanh": ("nn.Hardtanh(-2.0, 2.5)", "F.hardtanh(x, -2.0, 2.5)", "hardtanh(-2.0, 2.5)"),
    "hardsigmoid": ("nn.Hardsigmoid()", "F.hardsigmoid(x)", "hardsigmoid"),
    "hardswish": ("nn.Hardswish()", "F.hardswish(x)", "hardswish"),
    "elu": ("nn.ELU(alpha=0.7)", "F.elu(x, alpha=0.7)", "elu(0.7)"),
    "silu": ("nn.SiLU()", "F.silu(x)", "silu"),
    "gelu": ("nn.GELU()", "F.gelu(x)", "gelu"),
    "gelu_tanh": ("nn.GELU(approximate='tanh')", "F.gelu(x, approximate='tanh')", "gelu(approximate=tanh)"),
    "softplus": ("nn.Softplus()", "F.softplus(x)", "softplus"),
    "mish": ("nn.Mish()", "F.mish(x)", "mish"),
    "prelu": ("nn.PReLU()", "self.act2(x)", "prelu"),
    "prelu_channels": ("nn.PReLU(12)", "self.act2(x)", "prelu"),  # a slope per channel: folded exactly between the Linears
    "log_softmax": ("nn.ReLU()", "F.relu(x)", "relu"),
}

SOURCE = '''import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(13, 12)
        self.act1 = {mod}
        self.fc2 = nn.Linear(12, 8)
{act2}        self.fc3 = nn.Linear(8, 3)

    def forward(self, x):
        x = self.act1(self.fc1(x))
        x = self.fc2(x)
        x = {fn}
        x = self.fc3(x)
{tail}        return x
'''


def f32(v):
    return repr(float(np.float32(v)))


def make(name, mod, fn, layer):
    torch.manual_seed(19)
    np.random.seed(19)
    logsm = name == "log_softmax"
    src = SOURCE.format(
        mod=mod,
        fn=fn,
        act2={"prelu": "        self.act2 = nn.PReLU()\n", "prelu_channels": "        self.act2 = nn.PReLU(8)\n"}.get(name, ""),
        tail="        x = F.log_softmax(x, dim=1)\n" if logsm else "",
    )
    d = os.path.join(ROOT, name)
    os.makedirs(d, exist_ok=True)
    # TorchScript's script needs the class's source in a file: import it from model.py
    with open(os.path.join(d, "model.py"), "w") as f:
        f.write(src)
    spec = importlib.util.spec_from_file_location(f"acts_{name}", os.path.join(d, "model.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    net = module.Net()
    X, y = datasets.load_wine(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    names = datasets.load_wine().feature_names
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=19, stratify=y)
    Xtr_t = torch.tensor(Xtr, dtype=torch.float32)
    ytr_t = torch.tensor(ytr)
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    for _ in range(300):
        opt.zero_grad()
        out = net(Xtr_t)
        loss = F.nll_loss(out, ytr_t) if logsm else F.cross_entropy(out, ytr_t)
        loss.backward()
        opt.step()
    net.eval()
    Xte_t = torch.tensor(Xte, dtype=torch.float32)
    with torch.no_grad():
        ref = net(Xte_t).numpy()
    acc = float((ref.argmax(1) == yte).mean())
    # the Sequential twin (whole-model .pt): same weights, the functional activation as a module
    act2 = {"prelu": nn.PReLU(), "prelu_channels": nn.PReLU(8)}.get(name) or eval(mod, {"nn": nn})
    items = [("fc1", nn.Linear(13, 12)), ("act1", eval(mod, {"nn": nn})), ("fc2", nn.Linear(12, 8)), ("act2", act2), ("fc3", nn.Linear(8, 3))]
    if logsm:
        items[3] = ("act2", nn.ReLU())
        items.append(("out", nn.LogSoftmax(dim=1)))
    seq = nn.Sequential(OrderedDict(items))
    seq.load_state_dict(net.state_dict())
    seq.eval()
    with torch.no_grad():
        assert np.allclose(seq(Xte_t).numpy(), ref, atol=1e-6)
    torch.save(net.state_dict(), os.path.join(d, "model.state_dict.pt"))
    torch.save(seq, os.path.join(d, "model.whole.pt"))
    torch.jit.script(net).save(os.path.join(d, "model.script.pt"))
    torch.jit.trace(net, Xte_t[:1]).save(os.path.join(d, "model.trace.pt"))
    torch.onnx.export(net, Xte_t[:1], os.path.join(d, "model.onnx"), opset_version=13, input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    with open(os.path.join(d, "test.csv"), "w") as f:
        f.write(",".join(names + ["label"]) + "\n")
        for row, label in zip(Xte_t.numpy(), yte):
            f.write(",".join(f32(v) for v in row) + f",{int(label)}\n")
    with open(os.path.join(d, "reference.csv"), "w") as f:
        f.write("row,out0,out1,out2\n")
        for i, r in enumerate(ref):
            f.write(f"{i}," + ",".join(f32(v) for v in r) + "\n")
    layers = ["linear", layer, "linear", layer if name != "log_softmax" else "relu", "linear"] + (["log_softmax"] if logsm else [])
    if name == "log_softmax":
        layers[1] = "relu"
    meta = {"class": "Net", "layers": layers, "task": "multiclass", "dataset": "wine", "testRows": len(yte), "torchAccuracy": acc}
    with open(os.path.join(d, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
    print(f"{name}: PyTorch test accuracy {acc:.3f}")


def refused():
    """ONNX graphs ml2sc refuses, whose messages must name the PyTorch layer: test/fixtures/acts-refused/."""
    d = os.path.join(ROOT, "..", "acts-refused")
    os.makedirs(d, exist_ok=True)
    torch.manual_seed(5)

    class BiasFreeGelu(nn.Module):  # a Linear without bias feeding GELU: MatMul, then the Erf pattern
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(4, 3, bias=False)
            self.fc2 = nn.Linear(3, 2)

        def forward(self, x):
            return self.fc2(F.gelu(self.fc1(x)))

    class OpenClamp(nn.Module):  # torch.clamp with one bound: Clip(min=-1) without max
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(4, 3)
            self.fc2 = nn.Linear(3, 2)

        def forward(self, x):
            return self.fc2(torch.clamp(self.fc1(x), min=-1.0))

    prelu = nn.Sequential(nn.Linear(4, 3), nn.PReLU(3), nn.Linear(3, 2))
    with torch.no_grad():
        prelu[1].weight.copy_(torch.tensor([0.1, 0.2, 0.3]))
    for name, m in [("gelu_after_matmul", BiasFreeGelu()), ("clamp_open", OpenClamp()), ("prelu_per_channel", prelu)]:
        m.eval()
        torch.onnx.export(m, torch.randn(1, 4), os.path.join(d, f"{name}.onnx"), opset_version=13, input_names=["x"], output_names=["y"])
        print(f"refused fixture {name}")


if __name__ == "__main__":
    # `make-activation-fixtures.py prelu_channels` remakes only the fixtures named
    only = sys.argv[1:]
    for name, (mod, fn, layer) in ACTS.items():
        if not only or name in only:
            make(name, mod, fn, layer)
    if not only:
        refused()
