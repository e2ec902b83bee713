#!/usr/bin/python3
"""Make ml2sc's test fixtures with real PyTorch.

Run once with Debian's python3-torch (torch 1.13) and python3-sklearn (scikit-learn 1.2):

    /usr/bin/python3 scripts/make-fixtures.py

Every model is small, trained in seconds on a scikit-learn bundled dataset with fixed seeds, and written
in every format a PyTorch user saves (state_dict .pt, whole-model .pt, TorchScript trace/script, ONNX,
safetensors, ML2SC-style weights.json), beside its held-out test rows and PyTorch's own outputs.
The outputs are committed, so the tests never need torch. The convolutional fixtures (cnn_*, the random
single-layer cases, examples/digits-cnn) come from scripts/cnn_fixtures.py: `make-fixtures.py cnn` remakes
only those.
"""
import json
import os
import shutil
import struct
import sys
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

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures")


def seed(s=0):
    torch.manual_seed(s)
    np.random.seed(s)


def f32(v):
    """A float32 value printed so that parsing it as float64 gives exactly the float32 value."""
    return repr(float(np.float32(v)))


def f64(v):
    return repr(float(v))


# ---------------------------------------------------------------------------------------------------
# Models. Every Sequential uses named children so that its state_dict keys (fc1.weight, …) match the
# ML2SC-style source written to model.py; bc_sigmoid is a custom nn.Module (ML2SC's own style).


class BCNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(30, 8)
        self.fc2 = nn.Linear(8, 1)

    def forward(self, x):
        return torch.sigmoid(self.fc2(F.relu(self.fc1(x))))


SOURCES = {
    "bc_sigmoid": '''import torch
import torch.nn as nn
import torch.nn.functional as F


class BCNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(30, 8)
        self.fc2 = nn.Linear(8, 1)

    def forward(self, x):
        return torch.sigmoid(self.fc2(F.relu(self.fc1(x))))
''',
    "iris_logits": '''import torch
import torch.nn as nn
import torch.nn.functional as F


class IrisNet(nn.Module):
    def __init__(self):
        super(IrisNet, self).__init__()
        self.fc1 = nn.Linear(4, 16)
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = self.fc2(x)
        return x
''',
    "iris_softmax": '''import torch
import torch.nn as nn
import torch.nn.functional as F


class IrisSoftmax(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 16)
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x):
        return F.softmax(self.fc2(F.relu(self.fc1(x))), dim=1)
''',
    "wine_tanh_leaky": '''import torch
import torch.nn as nn
import torch.nn.functional as F


class WineNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(13, 16)
        self.fc2 = nn.Linear(16, 8)
        self.fc3 = nn.Linear(8, 3)

    def forward(self, x):
        x = torch.tanh(self.fc1(x))
        x = F.leaky_relu(self.fc2(x), 0.1)
        x = self.fc3(x)
        return x
''',
    "diabetes_reg": '''import torch
import torch.nn as nn
import torch.nn.functional as F


class DiabetesNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 16)
        self.fc2 = nn.Linear(16, 1)

    def forward(self, x):
        h = F.relu(self.fc1(x))
        out = self.fc2(h)
        return out
''',
    "digits_bn": '''import torch
import torch.nn as nn
import torch.nn.functional as F


class DigitsNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 32)
        self.bn1 = nn.BatchNorm1d(32)
        self.drop1 = nn.Dropout(0.2)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = F.relu(self.bn1(self.fc1(x)))
        x = self.drop1(x)
        return self.fc2(x)
''',
}

CLASS_NAMES = {
    "bc_sigmoid": "BCNet",
    "iris_logits": "IrisNet",
    "iris_softmax": "IrisSoftmax",
    "wine_tanh_leaky": "WineNet",
    "diabetes_reg": "DiabetesNet",
    "digits_bn": "DigitsNet",
}


def build(name):
    if name == "bc_sigmoid":
        return BCNet()
    if name == "iris_logits":
        return nn.Sequential(OrderedDict([("fc1", nn.Linear(4, 16)), ("relu1", nn.ReLU()), ("fc2", nn.Linear(16, 3))]))
    if name == "iris_softmax":
        return nn.Sequential(OrderedDict([
            ("fc1", nn.Linear(4, 16)), ("relu1", nn.ReLU()), ("fc2", nn.Linear(16, 3)), ("softmax", nn.Softmax(dim=1)),
        ]))
    if name == "wine_tanh_leaky":
        return nn.Sequential(OrderedDict([
            ("fc1", nn.Linear(13, 16)), ("tanh1", nn.Tanh()),
            ("fc2", nn.Linear(16, 8)), ("leaky1", nn.LeakyReLU(0.1)),
            ("fc3", nn.Linear(8, 3)),
        ]))
    if name == "diabetes_reg":
        return nn.Sequential(OrderedDict([("fc1", nn.Linear(10, 16)), ("relu1", nn.ReLU()), ("fc2", nn.Linear(16, 1))]))
    if name == "digits_bn":
        return nn.Sequential(OrderedDict([
            ("fc1", nn.Linear(64, 32)), ("bn1", nn.BatchNorm1d(32)), ("relu1", nn.ReLU()),
            ("drop1", nn.Dropout(0.2)), ("fc2", nn.Linear(32, 10)),
        ]))
    raise KeyError(name)


SPECS = {
    #                 dataset          task          layers                                              test rows
    "bc_sigmoid": ("breast_cancer", "binary", ["linear", "relu", "linear", "sigmoid"], 50),
    "iris_logits": ("iris", "multiclass", ["linear", "relu", "linear"], 30),
    "iris_softmax": ("iris", "multiclass", ["linear", "relu", "linear", "softmax"], 30),
    "wine_tanh_leaky": ("wine", "multiclass", ["linear", "tanh", "linear", "leaky_relu(0.1)", "linear"], 36),
    "diabetes_reg": ("diabetes", "regression", ["linear", "relu", "linear"], 50),
    "digits_bn": ("digits", "multiclass", ["linear", "batchnorm", "relu", "dropout", "linear"], 60),
}


def sanitize(n):
    out = "".join(c if c.isalnum() else "_" for c in n).strip("_")
    while "__" in out:
        out = out.replace("__", "_")
    return out


def load_data(ds, n_test):
    loader = {
        "breast_cancer": datasets.load_breast_cancer,
        "iris": datasets.load_iris,
        "wine": datasets.load_wine,
        "diabetes": datasets.load_diabetes,
        "digits": datasets.load_digits,
    }[ds]
    d = loader()
    X, y = d.data.astype(np.float64), d.target
    names = [sanitize(str(n)) for n in d.feature_names]
    strat = None if ds == "diabetes" else y
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=n_test, random_state=0, stratify=strat)
    if ds == "digits":
        Xtr, Xte = Xtr / 16.0, Xte / 16.0  # min-max: pixels are 0..16
    else:
        mu, sd = Xtr.mean(0), Xtr.std(0)
        sd[sd == 0] = 1
        Xtr, Xte = (Xtr - mu) / sd, (Xte - mu) / sd
    if ds == "diabetes":
        ym, ys = ytr.mean(), ytr.std()
        ytr, yte = (ytr - ym) / ys, (yte - ym) / ys
    return Xtr.astype(np.float32), Xte.astype(np.float32), ytr, yte, names


def train(model, task, Xtr, ytr, epochs):
    X = torch.from_numpy(Xtr)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    model.train()
    for _ in range(epochs):
        opt.zero_grad()
        out = model(X)
        if task == "binary":
            loss = F.binary_cross_entropy(out.squeeze(1), torch.tensor(ytr, dtype=torch.float32))
        elif task == "regression":
            loss = F.mse_loss(out.squeeze(1), torch.tensor(ytr, dtype=torch.float32))
        else:
            t = torch.tensor(ytr, dtype=torch.long)
            # the softmax model outputs probabilities: train it on their log
            loss = F.nll_loss(torch.log(out + 1e-9), t) if isinstance(model[-1] if isinstance(model, nn.Sequential) else None, nn.Softmax) else F.cross_entropy(out, t)
        loss.backward()
        opt.step()
    model.eval()
    return model


def write_safetensors(path, sd):
    dtypes = {torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64"}
    header, blobs, off = {}, [], 0
    for k, v in sd.items():
        v = v.detach().contiguous()
        if v.dtype == torch.bfloat16:
            raw = v.view(torch.int16).numpy().astype("<i2").tobytes()
        else:
            raw = v.numpy().astype(v.numpy().dtype.newbyteorder("<")).tobytes()
        header[k] = {"dtype": dtypes[v.dtype], "shape": list(v.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)  # the reference writer pads the header to 8 bytes with spaces
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def tolist(t):
    return t.detach().double().tolist()


def write_csv(path, header, rows):
    with open(path, "w") as f:
        f.write(",".join(header) + "\n")
        for r in rows:
            f.write(",".join(r) + "\n")


def write_reference(path, out):
    out = np.asarray(out, dtype=np.float64)
    k = out.shape[1]
    write_csv(path, ["row"] + [f"out{i}" for i in range(k)], [[str(i)] + [f64(v) for v in row] for i, row in enumerate(out)])


def export_onnx(model, path, n_in, shape=None):
    x = torch.zeros(*(shape or (2, n_in)), dtype=torch.float32)
    torch.onnx.export(
        model, x, path, opset_version=13, input_names=["input"], output_names=["output"],
        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, do_constant_folding=True,
    )


def make_model(name, epochs=400):
    ds, task, layers, n_test = SPECS[name]
    seed(0)
    Xtr, Xte, ytr, yte, names = load_data(ds, n_test)
    model = train(build(name), task, Xtr, ytr, epochs)
    d = os.path.join(ROOT, name)
    os.makedirs(d, exist_ok=True)
    sd = model.state_dict()

    torch.save(sd, os.path.join(d, "model.state_dict.pt"))
    torch.save(model, os.path.join(d, "model.whole.pt"))
    ex = torch.from_numpy(Xte[:2])
    torch.jit.trace(model, ex).save(os.path.join(d, "model.trace.pt"))
    torch.jit.script(model).save(os.path.join(d, "model.script.pt"))
    export_onnx(model, os.path.join(d, "model.onnx"), Xte.shape[1])
    write_safetensors(os.path.join(d, "model.safetensors"), sd)
    with open(os.path.join(d, "weights.json"), "w") as f:
        json.dump({k: tolist(v) for k, v in sd.items() if v.dtype.is_floating_point}, f)
    with open(os.path.join(d, "model.py"), "w") as f:
        f.write(SOURCES[name])

    label = [f64(v) for v in yte] if task == "regression" else [str(int(v)) for v in yte]
    write_csv(os.path.join(d, "test.csv"), names + ["label"], [[f32(v) for v in row] + [label[i]] for i, row in enumerate(Xte)])
    with torch.no_grad():
        out = model(torch.from_numpy(Xte)).double().numpy()
    write_reference(os.path.join(d, "reference.csv"), out)

    meta = {"layers": layers, "class": CLASS_NAMES[name], "task": task, "inputSize": int(Xte.shape[1]), "outputs": int(out.shape[1]),
            "dataset": ds, "label": "label", "testRows": int(len(Xte))}
    if task == "binary":
        meta["torchAccuracy"] = float(np.mean((out[:, 0] > 0.5).astype(int) == yte))
    elif task == "multiclass":
        meta["torchAccuracy"] = float(np.mean(out.argmax(1) == yte))
    else:
        meta["torchMae"] = float(np.mean(np.abs(out[:, 0] - yte)))
    with open(os.path.join(d, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print(f"{name}: {meta.get('torchAccuracy', meta.get('torchMae'))}")
    return model, Xte


class Evil:
    """A pickle payload: unpickling it would run a shell command. Never load malicious.pt with torch.load."""

    def __reduce__(self):
        return (os.system, ("touch /tmp/ml2sc_pwned",))


def make_special(iris_model, iris_X, softmax_model):
    d = os.path.join(ROOT, "special")
    os.makedirs(d, exist_ok=True)
    sd = iris_model.state_dict()
    X64 = torch.from_numpy(iris_X).double()

    # state_dicts in other float dtypes; their references come from the cast weights, computed in float64
    for tag, dt in (("f64", torch.float64), ("f16", torch.float16), ("bf16", torch.bfloat16)):
        cast = OrderedDict((k, v.to(dt)) for k, v in sd.items())
        torch.save(cast, os.path.join(d, f"iris_{tag}.pt"))
        m = build("iris_logits").double()
        m.load_state_dict(OrderedDict((k, v.double()) for k, v in cast.items()))
        m.eval()
        with torch.no_grad():
            write_reference(os.path.join(d, f"iris_{tag}.reference.csv"), m(X64).numpy())
    write_safetensors(os.path.join(d, "iris_f16.safetensors"), OrderedDict((k, v.half()) for k, v in sd.items()))
    write_safetensors(os.path.join(d, "iris_bf16.safetensors"), OrderedDict((k, v.bfloat16()) for k, v in sd.items()))
    write_safetensors(os.path.join(d, "iris_f64.safetensors"), OrderedDict((k, v.double()) for k, v in sd.items()))

    # non-contiguous views sharing one storage: fc1.weight is a transposed slice, fc2.weight an offset slice
    base = torch.zeros(8, 40)
    base[1:5, 2:18] = sd["fc1.weight"].t()
    base[6, 0:3] = sd["fc2.bias"]
    big = torch.zeros(100)
    big[7:55] = sd["fc2.weight"].reshape(-1)
    view = OrderedDict([
        ("fc1.weight", base[1:5, 2:18].t()),  # shape [16, 4], stride [1, 40], offset 42
        ("fc1.bias", sd["fc1.bias"].clone()),
        ("fc2.weight", big[7:55].view(3, 16)),  # offset 7
        ("fc2.bias", base[6, 0:3]),  # offset 240, same storage as fc1.weight
    ])
    assert not view["fc1.weight"].is_contiguous()
    torch.save(view, os.path.join(d, "view_strided.pt"))

    # a pickle that would run `touch /tmp/ml2sc_pwned` when loaded by torch.load (weights_only=False)
    evil = OrderedDict(sd)
    evil["evil"] = Evil()
    torch.save(evil, os.path.join(d, "malicious.pt"))

    # a truncated archive
    with open(os.path.join(ROOT, "iris_logits", "model.state_dict.pt"), "rb") as f:
        raw = f.read()
    with open(os.path.join(d, "truncated.pt"), "wb") as f:
        f.write(raw[: len(raw) // 2])

    # the legacy (torch < 1.6) non-zip format
    torch.save(sd, os.path.join(d, "legacy.pt"), _use_new_zipfile_serialization=False)
    torch.save(iris_model, os.path.join(d, "legacy.whole.pt"), _use_new_zipfile_serialization=False)

    # a training checkpoint: the state_dict sits under model_state_dict
    opt = torch.optim.SGD(iris_model.parameters(), lr=0.1)
    torch.save({"epoch": 3, "model_state_dict": sd, "optimizer_state_dict": opt.state_dict(), "loss": 0.25},
               os.path.join(d, "checkpoint.pt"))

    # an unsupported layer: a Conv1d nested at module path 0.0
    seed(1)
    conv = nn.Sequential(nn.Sequential(nn.Conv1d(1, 2, 3), nn.ReLU()), nn.Flatten(), nn.Linear(12, 2)).eval()
    torch.save(conv, os.path.join(d, "conv.whole.pt"))
    torch.jit.trace(conv, torch.zeros(2, 1, 8)).save(os.path.join(d, "conv.trace.pt"))
    export_onnx(conv, os.path.join(d, "conv.onnx"), None, shape=(2, 1, 8))

    # plain (index-named) and nested Sequentials holding iris_softmax's weights: keys 0.*/2.* and net.0.*/head.0.*
    ssd = softmax_model.state_dict()
    plain = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3), nn.Softmax(dim=1)).eval()
    plain.load_state_dict(OrderedDict([("0.weight", ssd["fc1.weight"]), ("0.bias", ssd["fc1.bias"]),
                                       ("2.weight", ssd["fc2.weight"]), ("2.bias", ssd["fc2.bias"])]))
    torch.save(plain, os.path.join(d, "iris_plain.whole.pt"))
    torch.jit.script(plain).save(os.path.join(d, "iris_plain.script.pt"))
    nested = nn.Sequential(OrderedDict([
        ("net", nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Identity())),
        ("head", nn.Sequential(nn.Linear(16, 3), nn.Softmax(dim=1))),
    ])).eval()
    nested.load_state_dict(OrderedDict([("net.0.weight", ssd["fc1.weight"]), ("net.0.bias", ssd["fc1.bias"]),
                                        ("head.0.weight", ssd["fc2.weight"]), ("head.0.bias", ssd["fc2.bias"])]))
    torch.save(nested, os.path.join(d, "iris_nested.whole.pt"))
    torch.jit.trace(nested, torch.zeros(2, 4)).save(os.path.join(d, "iris_nested.trace.pt"))
    print("special: done")


def main():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from cnn_fixtures import make_cnn_fixtures

    if sys.argv[1:] == ["cnn"]:  # only the convolutional fixtures
        make_cnn_fixtures(sys.modules[__name__])
        return
    if os.path.isdir(ROOT):
        for name in list(SPECS) + ["special"]:
            shutil.rmtree(os.path.join(ROOT, name), ignore_errors=True)
    os.makedirs(ROOT, exist_ok=True)
    models = {}
    for name in SPECS:
        models[name] = make_model(name)
    make_special(models["iris_logits"][0], models["iris_logits"][1], models["iris_softmax"][0])
    make_cnn_fixtures(sys.modules[__name__])
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(ROOT) for f in fs)
    print(f"fixtures: {total / 1024:.0f} KiB in {os.path.relpath(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
