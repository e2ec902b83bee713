"""Convolutional fixtures for ml2sc, trained by real PyTorch (called by make-fixtures.py; alone:
`/usr/bin/python3 scripts/make-fixtures.py cnn` remakes only these).

- cnn_digits8:   scikit-learn digits 8x8: conv 3x3 (pad 1), max-pool, conv 3x3 padding='same', avg-pool, linear.
- cnn_mnist28:   the same digits upsampled to 28x28, the MNIST-shaped net of issue 14: conv 1->8 5x5, max-pool 2,
                 conv 8->16 5x5, avg-pool 2, linear 256->10 (~6k parameters, ~323k multiply-accumulates).
- cnn_depthwise: digits 8x8: conv + BatchNorm2d, depthwise conv (groups=8, dilation 2) + BatchNorm2d, pointwise
                 1x1 conv with LeakyReLU, max-pool, AdaptiveAvgPool2d(1), linear.
- cnn_signal1d:  synthetic signals (sine / square / noise, length 64): Conv1d, max_pool1d, Conv1d stride 2 + tanh,
                 avg_pool1d, linear.

Each fixture folder holds the model in every format (ONNX, whole .pt, TorchScript trace and script, state_dict
.pt, safetensors, weights.json), model.py (an nn.Module whose forward uses the functional forms: F.max_pool2d,
torch.flatten, x.view(x.size(0), -1), ...), test.csv (the input tensor flattened in C order, then the label),
reference.csv (PyTorch's outputs on those rows) and meta.json (with inputShape). The whole-model and TorchScript
files hold an nn.Sequential with the same state_dict keys as model.py's class; model.onnx is exported from the
Sequential (Flatten nodes) except for cnn_mnist28 and cnn_signal1d, exported from model.py's class (the view
becomes Shape/Gather/Concat/Reshape).
"""
import json
import os
import shutil
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn import datasets
from sklearn.model_selection import train_test_split

SOURCES = {
    "cnn_digits8": '''import torch
import torch.nn as nn
import torch.nn.functional as F


class DigitsCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(4, 8, 3, padding='same')
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.avg_pool2d(F.relu(self.conv2(x)), kernel_size=2)
        x = torch.flatten(x, 1)
        return self.fc(x)
''',
    "cnn_mnist28": '''import torch
import torch.nn as nn
import torch.nn.functional as F


class MnistCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 5)
        self.conv2 = nn.Conv2d(8, 16, 5)
        self.fc = nn.Linear(256, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.relu(self.conv2(x))
        x = F.avg_pool2d(x, 2)
        x = x.view(x.size(0), -1)
        return self.fc(x)
''',
    "cnn_depthwise": '''import torch
import torch.nn as nn
import torch.nn.functional as F


class DepthwiseCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.dw = nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=8)
        self.bn2 = nn.BatchNorm2d(8)
        self.pw = nn.Conv2d(8, 16, 1)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.dw(x)))
        x = F.leaky_relu(self.pw(x), 0.1)
        x = F.max_pool2d(x, 2)
        x = self.gap(x)
        x = x.reshape(x.shape[0], -1)
        return self.fc(x)
''',
    "cnn_signal1d": '''import torch
import torch.nn as nn
import torch.nn.functional as F


class SignalCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(1, 4, 5, padding=2)
        self.conv2 = nn.Conv1d(4, 8, 3, stride=2)
        self.fc = nn.Linear(56, 3)

    def forward(self, x):
        x = F.max_pool1d(F.relu(self.conv1(x)), 2)
        x = torch.tanh(self.conv2(x))
        x = F.avg_pool1d(x, 2)
        x = x.flatten(1)
        return self.fc(x)
''',
}

CLASS_NAMES = {"cnn_digits8": "DigitsCNN", "cnn_mnist28": "MnistCNN", "cnn_depthwise": "DepthwiseCNN", "cnn_signal1d": "SignalCNN"}
# inputShape, test rows, epochs, ONNX from model.py's class (Reshape) rather than the Sequential (Flatten)
SPECS = {
    "cnn_digits8": ([1, 8, 8], 40, 60, False),
    "cnn_mnist28": ([1, 28, 28], 30, 25, True),
    "cnn_depthwise": ([1, 8, 8], 40, 80, False),
    "cnn_signal1d": ([1, 64], 45, 60, True),
}


def sequential(name):
    """The same network as model.py's class, as an nn.Sequential with the same state_dict keys."""
    if name == "cnn_digits8":
        return nn.Sequential(OrderedDict([
            ("conv1", nn.Conv2d(1, 4, kernel_size=3, padding=1)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(2)),
            ("conv2", nn.Conv2d(4, 8, 3, padding="same")), ("relu2", nn.ReLU()), ("pool2", nn.AvgPool2d(2)),
            ("flatten", nn.Flatten()), ("fc", nn.Linear(32, 10)),
        ]))
    if name == "cnn_mnist28":
        return nn.Sequential(OrderedDict([
            ("conv1", nn.Conv2d(1, 8, 5)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(2)),
            ("conv2", nn.Conv2d(8, 16, 5)), ("relu2", nn.ReLU()), ("pool2", nn.AvgPool2d(2)),
            ("flatten", nn.Flatten()), ("fc", nn.Linear(256, 10)),
        ]))
    if name == "cnn_depthwise":
        return nn.Sequential(OrderedDict([
            ("conv1", nn.Conv2d(1, 8, 3, padding=1, bias=False)), ("bn1", nn.BatchNorm2d(8)), ("relu1", nn.ReLU()),
            ("dw", nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=8)), ("bn2", nn.BatchNorm2d(8)), ("relu2", nn.ReLU()),
            ("pw", nn.Conv2d(8, 16, 1)), ("leaky", nn.LeakyReLU(0.1)), ("pool", nn.MaxPool2d(2)),
            ("gap", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten()), ("fc", nn.Linear(16, 10)),
        ]))
    if name == "cnn_signal1d":
        return nn.Sequential(OrderedDict([
            ("conv1", nn.Conv1d(1, 4, 5, padding=2)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool1d(2)),
            ("conv2", nn.Conv1d(4, 8, 3, stride=2)), ("tanh", nn.Tanh()), ("pool2", nn.AvgPool1d(2)),
            ("flatten", nn.Flatten()), ("fc", nn.Linear(56, 3)),
        ]))
    raise KeyError(name)


def source_class(name):
    """model.py's class, imported as the module `model` (as a user's model.py would be), so that
    torch.jit.script can read its source and pickles name it `model.<Class>`."""
    import importlib.util
    import sys
    import tempfile
    d = tempfile.mkdtemp()
    path = os.path.join(d, "model.py")
    with open(path, "w") as f:
        f.write(SOURCES[name])
    spec = importlib.util.spec_from_file_location("model", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["model"] = mod
    spec.loader.exec_module(mod)
    return getattr(mod, CLASS_NAMES[name])()


def digits(shape, n_test):
    d = datasets.load_digits()
    X = (d.data / 16.0).reshape(-1, 1, 8, 8)
    if shape[1] == 28:
        # bilinear upsampling to MNIST's 28x28, rounded to 2 decimals (short CSV cells, exact inputs)
        X = F.interpolate(torch.from_numpy(X), size=(28, 28), mode="bilinear", align_corners=False).numpy()
        X = np.round(X, 2)
    Xtr, Xte, ytr, yte = train_test_split(X, d.target, test_size=n_test, random_state=0, stratify=d.target)
    return Xtr.astype(np.float32), Xte.astype(np.float32), ytr, yte


def signals(n_test, n=900, length=64):
    """Sine / square / noise, random frequency, phase and amplitude, plus Gaussian noise; rounded to 3 decimals."""
    rs = np.random.RandomState(7)
    t = np.arange(length)
    X, y = [], []
    for i in range(n):
        k = i % 3
        f = rs.uniform(1.5, 6) / length
        ph = rs.uniform(0, 2 * np.pi)
        a = rs.uniform(0.5, 1.5)
        if k == 0:
            s = a * np.sin(2 * np.pi * f * t + ph)
        elif k == 1:
            s = a * np.sign(np.sin(2 * np.pi * f * t + ph))
        else:
            s = a * rs.randn(length) * 0.7
        X.append(s + rs.randn(length) * 0.15)
        y.append(k)
    X = np.round(np.array(X), 3).reshape(-1, 1, length)
    Xtr, Xte, ytr, yte = train_test_split(X, np.array(y), test_size=n_test, random_state=0, stratify=y)
    return Xtr.astype(np.float32), Xte.astype(np.float32), ytr, yte


def train(model, Xtr, ytr, epochs):
    X = torch.from_numpy(Xtr)
    y = torch.tensor(ytr, dtype=torch.long)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    g = torch.Generator().manual_seed(0)
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(len(X), generator=g)
        for b in range(0, len(X), 64):
            idx = perm[b:b + 64]
            opt.zero_grad()
            F.cross_entropy(model(X[idx]), y[idx]).backward()
            opt.step()
    model.eval()
    return model


def onnx_ready(model):
    """torch 1.13 cannot export padding='same' to ONNX: a copy with the same pads written out (odd kernels)."""
    import copy
    m = copy.deepcopy(model)
    for mod in m.modules():
        if isinstance(mod, (nn.Conv1d, nn.Conv2d)) and mod.padding == "same":
            mod.padding = tuple(d * (k - 1) // 2 for d, k in zip(mod.dilation, mod.kernel_size))
            mod._reversed_padding_repeated_twice = [p for p in reversed(mod.padding) for _ in range(2)]
    return m


def cell(v):
    """The shortest decimal that reads back as the same float32 (the inputs are rounded to 2-3 decimals):
    ml2sc reads it as float64, within 1e-8 of PyTorch's float32 input."""
    s = np.format_float_positional(np.float32(v), unique=True, trim="-")
    return "0" if s in ("0", "-0") else s


def make(name, mf):
    shape, n_test, epochs, onnx_from_source = SPECS[name]
    mf.seed(0)
    Xtr, Xte, ytr, yte = signals(n_test) if len(shape) == 2 else digits(shape, n_test)
    model = train(sequential(name), Xtr, ytr, epochs)
    d = os.path.join(mf.ROOT, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    sd = model.state_dict()
    src = source_class(name)
    src.load_state_dict(sd)
    src.eval()

    # model.py's own class, traced and scripted (its forward() calls F.max_pool2d, x.view, … in code/),
    # and pickled whole (then ml2sc needs model.source for the call order)
    torch.jit.trace(src, torch.from_numpy(Xte[:2])).save(os.path.join(d, "model.class.trace.pt"))
    torch.jit.script(src).save(os.path.join(d, "model.class.script.pt"))
    torch.save(src, os.path.join(d, "model.class.whole.pt"))
    torch.save(sd, os.path.join(d, "model.state_dict.pt"))
    torch.save(model, os.path.join(d, "model.whole.pt"))
    ex = torch.from_numpy(Xte[:2])
    torch.jit.trace(model, ex).save(os.path.join(d, "model.trace.pt"))
    torch.jit.script(model).save(os.path.join(d, "model.script.pt"))
    mf.export_onnx(onnx_ready(src if onnx_from_source else model), os.path.join(d, "model.onnx"), None, shape=(2, *shape))
    mf.write_safetensors(os.path.join(d, "model.safetensors"), sd)
    with open(os.path.join(d, "weights.json"), "w") as f:
        json.dump({k: mf.tolist(v) for k, v in sd.items() if v.dtype.is_floating_point}, f)
    with open(os.path.join(d, "model.py"), "w") as f:
        f.write(SOURCES[name])

    flat = Xte.reshape(len(Xte), -1)
    names = [f"x{i}" for i in range(flat.shape[1])]
    mf.write_csv(os.path.join(d, "test.csv"), names + ["label"], [[cell(v) for v in row] + [str(int(yte[i]))] for i, row in enumerate(flat)])
    with torch.no_grad():
        out32 = model(torch.from_numpy(Xte)).double().numpy()
        out_src = src(torch.from_numpy(Xte)).double().numpy()
        # reference.csv: PyTorch in float64 on the same (float32) weights and inputs, so that the tests
        # check the layer arithmetic to 1e-5 and not float32's rounding (~2e-5 on the 28x28 net's logits)
        import copy
        out = copy.deepcopy(model).double()(torch.from_numpy(Xte).double()).numpy()
    assert np.abs(out32 - out_src).max() < 1e-5, "model.py's class and the Sequential disagree"
    assert (out32.argmax(1) == out.argmax(1)).all(), "float32 and float64 PyTorch disagree on a class"
    mf.write_reference(os.path.join(d, "reference.csv"), out)
    params = sum(p.numel() for p in model.parameters())
    meta = {"class": CLASS_NAMES[name], "task": "multiclass", "inputShape": shape, "inputSize": int(flat.shape[1]),
            "outputs": int(out.shape[1]), "parameters": int(params), "label": "label", "testRows": int(len(Xte)),
            "reference": "PyTorch float64 forward of the float32 weights", "float32MaxAbsDiff": float(np.abs(out32 - out).max()),
            "trainAccuracy": float(np.mean(model(torch.from_numpy(Xtr)).argmax(1).numpy() == ytr)),
            "torchAccuracy": float(np.mean(out.argmax(1) == yte))}
    with open(os.path.join(d, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print(f"{name}: {params} parameters, test accuracy {meta['torchAccuracy']:.3f} (train {meta['trainAccuracy']:.3f})")


class LstmNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 8, batch_first=True)
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.fc(out[:, -1])


def make_refusals(mf):
    """special/lstm.*: a layer ml2sc does not handle (an LSTM), to check the one-line refusal naming it."""
    d = os.path.join(mf.ROOT, "special")
    os.makedirs(d, exist_ok=True)
    mf.seed(2)
    m = LstmNet().eval()
    seq = nn.Sequential(OrderedDict([("rnn", nn.GRU(4, 8)), ("fc", nn.Linear(8, 2))])).eval()
    torch.save(seq, os.path.join(d, "gru.whole.pt"))
    torch.jit.trace(m, torch.zeros(2, 5, 4)).save(os.path.join(d, "lstm.trace.pt"))
    mf.export_onnx(m, os.path.join(d, "lstm.onnx"), None, shape=(2, 5, 4))


EXAMPLE_YAML = """# A small CNN (conv 3x3, max-pool, conv 3x3 padding='same', avg-pool, linear; 666 parameters) trained by
# PyTorch on scikit-learn's 8x8 digits. The weights are a state_dict; the architecture comes from the
# nn.Module source and the input shape from model.inputShape. The CSV's 64 feature columns are the 1x8x8
# image flattened in C order (row by row).
model:
  path: model.state_dict.pt
  source: model.py
  class: DigitsCNN
  inputShape: [1, 8, 8]
data:
  test: test.csv
  label: label
  # PyTorch's own outputs for the test rows: agreement and error are measured against these
  reference: reference.csv
"""


def make_example(mf):
    """examples/digits-cnn: the cnn_digits8 fixture as a project (state_dict + model.py + inputShape)."""
    src = os.path.join(mf.ROOT, "cnn_digits8")
    d = os.path.join(mf.ROOT, "..", "..", "examples", "digits-cnn")
    os.makedirs(d, exist_ok=True)
    for f in ("model.state_dict.pt", "model.py", "test.csv", "reference.csv"):
        shutil.copyfile(os.path.join(src, f), os.path.join(d, f))
    with open(os.path.join(d, "ml2sc.yaml"), "w") as f:
        f.write(EXAMPLE_YAML)


def make_random_layers(mf, n_cases=36):
    """cnn_random.json: single conv / pool layers with random geometry (1-D and 2-D; stride, padding incl.
    'same' with even kernels and asymmetric zero pads, dilation, groups incl. depthwise; max pool with
    padding and dilation; average pool with padding and count_include_pad on and off; adaptive average
    pooling), each with its weights, an input and PyTorch's float64 output. Numbers are rounded to 3
    decimals, so they are exact in the JSON."""
    rs = np.random.RandomState(11)
    r3 = lambda a: np.round(a, 3)
    cases = []
    while len(cases) < n_cases:
        dims = 1 + rs.randint(2)
        c_in = 1 + rs.randint(3)
        spatial = [5 + rs.randint(6) for _ in range(dims)]
        x = torch.tensor(r3(rs.uniform(-2, 2, size=[1, c_in] + spatial)), dtype=torch.float64)
        kind = ["conv", "conv", "maxpool", "avgpool", "gap"][rs.randint(5)]
        k = [1 + rs.randint(4) for _ in range(dims)]
        step, tensors = {}, {}
        try:
            if kind == "conv":
                groups = [1, c_in][rs.randint(2)]
                c_out = groups * (1 + rs.randint(3))
                same = rs.rand() < 0.35  # 'same' needs stride 1; even kernels pad asymmetrically
                stride = [1 if same else 1 + rs.randint(2) for _ in range(dims)]
                dil = [1 + rs.randint(2) for _ in range(dims)]
                pad = "same" if same else [rs.randint(3) for _ in range(dims)]
                Conv = nn.Conv1d if dims == 1 else nn.Conv2d
                m = Conv(c_in, c_out, k, stride=stride, padding=pad, dilation=dil, groups=groups, bias=bool(rs.rand() < 0.7)).double()
                with torch.no_grad():
                    m.weight.copy_(torch.tensor(r3(rs.uniform(-1, 1, size=m.weight.shape))))
                    if m.bias is not None:
                        m.bias.copy_(torch.tensor(r3(rs.uniform(-1, 1, size=m.bias.shape))))
                tensors["c.weight"] = {"shape": list(m.weight.shape), "data": m.weight.detach().reshape(-1).tolist()}
                if m.bias is not None:
                    tensors["c.bias"] = {"shape": list(m.bias.shape), "data": m.bias.detach().tolist()}
                step = {"op": "conv", "name": "c", "dims": dims, "stride": stride, "dilation": dil, "groups": groups,
                        "padding": "same_upper" if same else {"begin": pad, "end": pad}}
            elif kind == "gap":
                m = (nn.AdaptiveAvgPool1d if dims == 1 else nn.AdaptiveAvgPool2d)(1)
                step = {"op": "globalavgpool"}
            else:
                stride = [1 + rs.randint(3) for _ in range(dims)]
                pad = [rs.randint(k_ // 2 + 1) for k_ in k]
                if kind == "maxpool":
                    dil = [1 + rs.randint(2) for _ in range(dims)]
                    m = (nn.MaxPool1d if dims == 1 else nn.MaxPool2d)(k, stride=stride, padding=pad, dilation=dil)
                    step = {"op": "maxpool", "dims": dims, "kernel": k, "stride": stride, "dilation": dil, "padding": {"begin": pad, "end": pad}}
                else:
                    cip = bool(rs.rand() < 0.5)
                    m = (nn.AvgPool1d if dims == 1 else nn.AvgPool2d)(k, stride=stride, padding=pad, count_include_pad=cip)
                    step = {"op": "avgpool", "dims": dims, "kernel": k, "stride": stride, "padding": {"begin": pad, "end": pad}, "countIncludePad": cip}
            y = m(x)
        except RuntimeError:
            continue  # a window larger than its input: draw again
        cases.append({"inputShape": [c_in] + spatial, "step": step, "tensors": tensors,
                      "input": x.reshape(-1).tolist(), "outShape": list(y.shape[1:]), "output": y.detach().reshape(-1).tolist()})
    with open(os.path.join(mf.ROOT, "cnn_random.json"), "w") as f:
        json.dump(cases, f, separators=(",", ":"))
        f.write("\n")


def make_ops(mf):
    """cnn_ops: an untrained network of the less common pieces, as PyTorch exports them: grouped and
    depthwise convs with dilation and stride, average pools with padding counted and not counted (ONNX:
    Pad + AveragePool, AveragePool count_include_pad=0), a padded max pool, Dropout2d, sigmoid after a
    conv, a ReLU after the flatten. onnx, whole .pt and TorchScript trace, 12 random rows, PyTorch's
    float64 outputs."""
    mf.seed(5)
    m = nn.Sequential(OrderedDict([
        ("c1", nn.Conv2d(2, 4, 3, padding=1, groups=2)), ("r1", nn.ReLU()),
        ("p1", nn.AvgPool2d(3, stride=1, padding=1)),
        ("c2", nn.Conv2d(4, 8, 3, stride=2, padding=2, dilation=2, groups=4)), ("s2", nn.Sigmoid()),
        ("d2", nn.Dropout2d(0.1)),
        ("p2", nn.MaxPool2d(3, stride=2, padding=1)),
        ("p3", nn.AvgPool2d(2, stride=1, padding=1, count_include_pad=False)),
        ("flat", nn.Flatten()), ("r3", nn.ReLU()), ("fc", nn.Linear(8 * 4 * 4, 3)),
    ])).eval()
    d = os.path.join(mf.ROOT, "cnn_ops")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    X = np.round(np.random.RandomState(5).uniform(-1, 1, size=(12, 2, 9, 9)), 3).astype(np.float32)
    torch.save(m, os.path.join(d, "model.whole.pt"))
    torch.jit.trace(m, torch.from_numpy(X[:2])).save(os.path.join(d, "model.trace.pt"))
    mf.export_onnx(m, os.path.join(d, "model.onnx"), None, shape=(2, 2, 9, 9))
    flat = X.reshape(len(X), -1)
    mf.write_csv(os.path.join(d, "test.csv"), [f"x{i}" for i in range(flat.shape[1])], [[cell(v) for v in row] for row in flat])
    import copy
    with torch.no_grad():
        out = copy.deepcopy(m).double()(torch.from_numpy(X).double()).numpy()
    mf.write_reference(os.path.join(d, "reference.csv"), out)
    with open(os.path.join(d, "meta.json"), "w") as f:
        json.dump({"inputShape": [2, 9, 9], "outputs": 3, "testRows": len(X), "reference": "PyTorch float64 forward of the float32 weights"}, f, indent=2)
        f.write("\n")


def make_cnn_fixtures(mf):
    for name in SPECS:
        make(name, mf)
    make_refusals(mf)
    make_example(mf)
    make_random_layers(mf)
    make_ops(mf)
