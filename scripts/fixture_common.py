"""Shared pieces of the PyTorch fixture scripts (scripts/make-*-fixtures.py), run with Debian's /usr/bin/python3
(python3-torch 1.13, python3-sklearn): dataset loading and splitting, the training loops, the exports (ONNX,
state_dict, whole model, TorchScript, safetensors) and the CSV files (test.csv, reference.csv) the tests read.
Each script keeps its own models, data choices and output folder; the fixtures it writes are committed.
"""
import inspect
import json
import os
import re
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from sklearn import datasets
from sklearn.model_selection import train_test_split

warnings.filterwarnings("ignore")
torch.set_num_threads(1)

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures")


def fixture_dir(*parts):
    """test/fixtures/<parts...>, the folder a script writes into."""
    return os.path.join(FIXTURES, *parts)


def seed(s=0):
    torch.manual_seed(s)
    np.random.seed(s)


def f32(v):
    """A feature as written to test.csv: the float32 value, printed as Python prints it."""
    return repr(float(np.float32(v)))


def split(name, n_test):
    """wine or digits (pixels / 16) as float64, split stratified with random_state 0: Xtr, Xte, ytr, yte."""
    ds = {"wine": datasets.load_wine, "digits": datasets.load_digits}[name]()
    X = ds.data.astype(np.float64)
    y = ds.target.astype(np.int64)
    if name == "digits":
        X = X / 16.0
    return train_test_split(X, y, test_size=n_test, random_state=0, stratify=y)


def standardize(Xtr, Xte):
    """Both sets scaled with the training set's mean and standard deviation."""
    mu, sd = Xtr.mean(0), Xtr.std(0)
    return (Xtr - mu) / sd, (Xte - mu) / sd


def load(name, n_test, raw=False):
    """split(), wine standardised unless raw; features as float32 (the values written to test.csv), names x<i>."""
    Xtr, Xte, ytr, yte = split(name, n_test)
    if name == "wine" and not raw:
        Xtr, Xte = standardize(Xtr, Xte)
    return Xtr.astype(np.float32), Xte.astype(np.float32), ytr, yte, [f"x{i}" for i in range(Xtr.shape[1])]


def train(model, X, y, epochs, lr, shape=None):
    """Full-batch Adam on cross-entropy; rows reshaped to [N, *shape] when a shape is given."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    if shape is not None:
        Xt = Xt.reshape(-1, *shape)
    for _ in range(epochs):
        model.train()
        opt.zero_grad()
        F.cross_entropy(model(Xt), yt).backward()
        opt.step()
    model.eval()
    return model


def train_sequence(model, x, y, loss_fn, epochs, batch_first=True):
    """Full-batch Adam (lr 0.01) over [N, T, F] windows ([T, N, F] when not batch_first); the last loss."""
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    xt = torch.tensor(x) if batch_first else torch.tensor(x).transpose(0, 1)
    yt = torch.tensor(y)
    model.train()
    for _ in range(epochs):
        opt.zero_grad()
        loss = loss_fn(model(xt), yt)
        loss.backward()
        opt.step()
    model.eval()
    return loss.item()


def export_onnx(model, example, path, opset=13, outputs=("output",)):
    """ONNX with a dynamic batch axis on the input and every named output."""
    torch.onnx.export(model, example, path, opset_version=opset, input_names=["input"], output_names=list(outputs),
                      dynamic_axes={n: {0: "batch"} for n in ["input", *outputs]}, do_constant_folding=True)


def write_text(path, text):
    with open(path, "w") as f:
        f.write(text)


def write_test_csv(d, header, X, tails):
    """test.csv: the float32 features of each row, then that row's label cells (strings)."""
    with open(os.path.join(d, "test.csv"), "w") as f:
        f.write(",".join(header) + "\n")
        for row, tail in zip(X, tails):
            f.write(",".join([f32(v) for v in row] + tail) + "\n")


def write_reference_csv(d, out, names=None):
    """reference.csv: PyTorch's float outputs, a row index first; columns out<i> unless named."""
    with open(os.path.join(d, "reference.csv"), "w") as f:
        f.write(",".join(["row"] + (names or [f"out{i}" for i in range(out.shape[1])])) + "\n")
        for i, row in enumerate(out):
            f.write(",".join([str(i)] + [repr(float(v)) for v in row]) + "\n")


def write_tabular_csvs(d, names, Xte, yte, out):
    """test.csv (features then the class label) and reference.csv for a classifier's held-out rows."""
    write_test_csv(d, names + ["label"], Xte, [[str(int(label))] for label in yte])
    write_reference_csv(d, out)


def write_classifier_outputs(d, name, model, Xte, yte, names, shape=None):
    """PyTorch's outputs on the held-out rows (reshaped to [N, *shape] when given) into test.csv and
    reference.csv; prints the accuracy and the output range; returns the outputs."""
    x = torch.from_numpy(Xte)
    with torch.no_grad():
        out = model(x if shape is None else x.reshape(-1, *shape)).double().numpy()
    write_tabular_csvs(d, names, Xte, yte, out)
    acc = float(np.mean(out.argmax(1) == yte))
    print(f"{name}: {len(Xte)} test rows, PyTorch accuracy {acc:.3f}, output range {out.min():.2f}..{out.max():.2f}")
    return out


def write_safetensors(path, state):
    """The safetensors format by hand (8-byte header length, JSON header, raw little-endian F32 data)."""
    header, blobs, at = {}, [], 0
    for k, v in state.items():
        b = v.detach().contiguous().numpy().astype("<f4").tobytes()
        header[k] = {"dtype": "F32", "shape": list(v.shape), "data_offsets": [at, at + len(b)]}
        blobs.append(b)
        at += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little") + h + b"".join(blobs))


def write_sequence_csvs(d, x_test, y_test, label_name, out):
    """test.csv (each window flattened step by step, C order of [T, F], then the label: a float for the
    regression target `next`, else a class) and reference.csv (PyTorch's outputs, np.savetxt %.9g)."""
    T, C = x_test.shape[1], x_test.shape[2]
    cols = [f"x{t}_{f}" for t in range(T) for f in range(C)]
    flat = x_test.reshape(len(x_test), -1)
    with open(os.path.join(d, "test.csv"), "w") as f:
        f.write(",".join(cols + [label_name]) + "\n")
        for row, lab in zip(flat, y_test):
            f.write(",".join(repr(float(v)) for v in row) + "," + (repr(float(lab)) if label_name == "next" else str(int(lab))) + "\n")
    np.savetxt(os.path.join(d, "reference.csv"), out, delimiter=",", fmt="%.9g")


def module_source(cls):
    """The model.py of a sequence fixture: torch imports, then the class as the script defines it (its source,
    so that the whole-model .pt, which embeds it, and model.py agree), end-of-line comments left out."""
    return "import torch\nimport torch.nn as nn\n\n\n" + re.sub(r"  # .*$", "", inspect.getsource(cls), flags=re.M)


def save_sequence_fixture(d, model, source, x_test, y_test, label_name, batch_first, example=None,
                          check_trace=True, script=False, safetensors=False, weights_json=False):
    """Writes a trained sequence model into d in every format ml2sc reads: state_dict.pt with model.py,
    whole.pt, traced.pt (TorchScript trace on `example`, by default the first test window), model.onnx
    (opset 13) and, when asked, scripted.pt, model.safetensors and weights.json; then test.csv and
    reference.csv (PyTorch's outputs on x_test)."""
    os.makedirs(d, exist_ok=True)
    model.eval()
    with torch.no_grad():
        xin = torch.tensor(x_test) if batch_first else torch.tensor(x_test).transpose(0, 1)
        out = model(xin).numpy()
    if example is None:
        example = xin[:1] if batch_first else xin[:, :1]
    sd = model.state_dict()
    torch.save(sd, os.path.join(d, "state_dict.pt"))
    write_text(os.path.join(d, "model.py"), source)
    torch.save(model, os.path.join(d, "whole.pt"))
    torch.jit.trace(model, example, check_trace=check_trace).save(os.path.join(d, "traced.pt"))
    torch.onnx.export(model, example, os.path.join(d, "model.onnx"), opset_version=13, input_names=["x"], output_names=["y"])
    if script:
        torch.jit.script(model).save(os.path.join(d, "scripted.pt"))
    if safetensors:
        write_safetensors(os.path.join(d, "model.safetensors"), sd)
    if weights_json:
        write_text(os.path.join(d, "weights.json"), json.dumps({k: v.detach().double().tolist() for k, v in sd.items()}))
    write_sequence_csvs(d, x_test, y_test, label_name, out)
    print(os.path.basename(d), "saved", out.shape)


def add_formats(d, script=True, safetensors=True):
    """The formats a committed sequence fixture lacks, written from its whole.pt (the same trained weights; the
    classes must be importable where the caller runs): scripted.pt (torch.jit.script) and model.safetensors."""
    m = torch.load(os.path.join(d, "whole.pt"))
    m.eval()
    if script and not os.path.exists(os.path.join(d, "scripted.pt")):
        torch.jit.script(m).save(os.path.join(d, "scripted.pt"))
    if safetensors and not os.path.exists(os.path.join(d, "model.safetensors")):
        write_safetensors(os.path.join(d, "model.safetensors"), m.state_dict())
    print(os.path.basename(d), "formats", sorted(os.listdir(d)))
