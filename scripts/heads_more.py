"""The multi-output fixtures beyond heads_wine (see scripts/make-heads-fixture.py, which runs them): a softmax
or log-softmax on one of two heads, heads after a CNN and heads after a GRU. Each model's source is written
as model.py and exec'd here, so the file ml2sc reads is the class PyTorch trained."""
import linecache
import os

import numpy as np
import torch
import torch.nn.functional as F
from sklearn import datasets
from sklearn.model_selection import train_test_split

from fixture_common import export_onnx, fixture_dir, load, seed, write_reference_csv, write_test_csv, write_text

SOFTMAX_SOURCE = '''import torch.nn as nn
import torch.nn.functional as F


class ProbHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Linear(12, 16)
        self.cls = nn.Linear(16, 3)
        self.reg = nn.Linear(16, 1)

    def forward(self, x):
        h = F.relu(self.trunk(x))
        return F.softmax(self.cls(h), dim=1), self.reg(h)
'''

LOG_SOURCE = '''import torch.nn as nn
import torch.nn.functional as F


class LogHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Linear(12, 16)
        self.cls = nn.Sequential(nn.Linear(16, 3), nn.LogSoftmax(dim=1))
        self.reg = nn.Linear(16, 1)

    def forward(self, x):
        h = F.relu(self.trunk(x))
        logp = self.cls(h)
        alcohol = self.reg(h)
        return logp, alcohol
'''

CNN_SOURCE = '''import torch
import torch.nn as nn
import torch.nn.functional as F


class CnnHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, kernel_size=3, padding=1)
        self.cls = nn.Linear(64, 10)
        self.ink1 = nn.Linear(64, 8)
        self.ink2 = nn.Linear(8, 1)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv(x)), 2)
        x = torch.flatten(x, 1)
        digit = self.cls(x)
        ink = self.ink2(F.relu(self.ink1(x)))
        return digit, ink
'''

GRU_SOURCE = '''import torch
import torch.nn as nn


class GruHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(1, 8, batch_first=True)
        self.next = nn.Linear(8, 1)
        self.up = nn.Linear(8, 2)

    def forward(self, x):
        out, h = self.gru(x)
        last = out[:, -1, :]
        return self.next(last), self.up(last)
'''


ATTN_SOURCE = '''import torch
import torch.nn as nn


class AttnHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(4, 2, batch_first=True)
        self.next = nn.Linear(4, 1)
        self.up = nn.Linear(4, 2)

    def forward(self, x):
        a, _ = self.attn(x, x, x)
        m = a.mean(dim=1)
        return self.next(m), self.up(m)
'''


def klass(source, name):
    """The class from its source, registered with linecache so that torch.jit.script can read it back."""
    filename = f"<model.py {name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    scope = {"__name__": f"heads_{name}"}
    exec(compile(source, filename, "exec"), scope)
    return scope[name]


def fit(model, x, targets, epochs, losses):
    """Full-batch Adam (lr 0.01) on the sum of each head's loss."""
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    model.train()
    for _ in range(epochs):
        opt.zero_grad()
        outs = model(x)
        sum(f(o, t) for f, o, t in zip(losses, outs, targets)).backward()
        opt.step()
    model.eval()
    return model


def outputs(model, x):
    with torch.no_grad():
        return torch.cat(list(model(x)), dim=1).double().numpy()


def save_ts(model, example, d, check=True):
    torch.jit.trace(model, example, check_trace=check).save(os.path.join(d, "trace.pt"))


def softmax_wine():
    seed(0)
    ds = datasets.load_wine()
    X, y = ds.data.astype(np.float64), ds.target.astype(np.int64)
    alcohol, X = X[:, 0], X[:, 1:]
    names = [n.replace("/", "_") for n in ds.feature_names[1:]]
    Xtr, Xte, ytr, yte, atr, ate = train_test_split(X, y, alcohol, test_size=20, random_state=0, stratify=y)
    mu, sd = Xtr.mean(0), Xtr.std(0)
    Xtr, Xte = ((Xtr - mu) / sd).astype(np.float32), ((Xte - mu) / sd).astype(np.float32)
    model = klass(SOFTMAX_SOURCE, "ProbHeads")()
    with torch.no_grad():
        model.reg.bias.fill_(float(atr.mean()))
    nll = lambda p, t: F.nll_loss(torch.log(p), t)
    fit(model, torch.from_numpy(Xtr), [torch.from_numpy(ytr), torch.from_numpy(atr.astype(np.float32)).unsqueeze(1)], 300, [nll, F.mse_loss])
    d = fixture_dir("graph", "heads_softmax_wine")
    os.makedirs(d, exist_ok=True)
    xt = torch.from_numpy(Xte)
    torch.save(model.state_dict(), os.path.join(d, "model.state_dict.pt"))
    write_text(os.path.join(d, "model.py"), SOFTMAX_SOURCE)
    export_onnx(model, torch.zeros(2, 12), os.path.join(d, "model.onnx"), outputs=("probs", "alcohol"))
    save_ts(model, xt[:2], d)
    torch.jit.script(model).save(os.path.join(d, "script.pt"))
    write_test_csv(d, names + ["label", "alcohol"], Xte, [[str(int(c)), repr(float(a))] for c, a in zip(yte, ate)])
    out = outputs(model, xt)
    write_reference_csv(d, out, ["probs_0", "probs_1", "probs_2", "alcohol"])
    # the same weights with the class head as Sequential(Linear, LogSoftmax)
    log = klass(LOG_SOURCE, "LogHeads")()
    log.load_state_dict({k.replace("cls.", "cls.0."): v for k, v in model.state_dict().items()})
    log.eval()
    torch.save(log.state_dict(), os.path.join(d, "model_log.state_dict.pt"))
    write_text(os.path.join(d, "model_log.py"), LOG_SOURCE)
    export_onnx(log, torch.zeros(2, 12), os.path.join(d, "model_log.onnx"), outputs=("logp", "alcohol"))
    lout = outputs(log, xt)
    with open(os.path.join(d, "reference_log.csv"), "w") as f:
        f.write("row,logp_0,logp_1,logp_2,alcohol\n")
        for i, r in enumerate(lout):
            f.write(",".join([str(i)] + [repr(float(v)) for v in r]) + "\n")
    print(f"heads_softmax_wine: accuracy {float(np.mean(out[:, :3].argmax(1) == yte)):.3f}, max |exp(logp) - p| {np.abs(np.exp(lout[:, :3]) - out[:, :3]).max():.2e}")


def cnn_digits():
    seed(0)
    Xtr, Xte, ytr, yte, names = load("digits", 40)
    ink_tr, ink_te = Xtr.mean(1), Xte.mean(1)
    model = klass(CNN_SOURCE, "CnnHeads")()
    xt = torch.from_numpy(Xtr).reshape(-1, 1, 8, 8)
    fit(model, xt, [torch.from_numpy(ytr), torch.from_numpy(ink_tr).unsqueeze(1)], 250, [F.cross_entropy, F.mse_loss])
    d = fixture_dir("graph", "heads_cnn_digits")
    os.makedirs(d, exist_ok=True)
    x = torch.from_numpy(Xte).reshape(-1, 1, 8, 8)
    torch.save(model.state_dict(), os.path.join(d, "model.state_dict.pt"))
    write_text(os.path.join(d, "model.py"), CNN_SOURCE)
    export_onnx(model, torch.zeros(2, 1, 8, 8), os.path.join(d, "model.onnx"), outputs=("digit", "ink"))
    save_ts(model, x[:2], d)
    write_test_csv(d, names + ["label", "ink"], Xte, [[str(int(c)), repr(float(a))] for c, a in zip(yte, ink_te)])
    out = outputs(model, x)
    write_reference_csv(d, out, [f"digit_{i}" for i in range(10)] + ["ink"])
    print(f"heads_cnn_digits: accuracy {float(np.mean(out[:, :10].argmax(1) == yte)):.3f}, ink MAE {np.abs(out[:, 10] - ink_te).mean():.4f}")


def sine_windows(n, T=8, seed_=0):
    rng = np.random.default_rng(seed_)
    t0 = rng.uniform(0, 20, size=n)
    k = np.arange(T + 1)
    series = np.sin(0.5 * (t0[:, None] + k[None, :])) + rng.normal(0, 0.05, size=(n, T + 1))
    x = series[:, :T, None].astype(np.float32)
    nxt = series[:, T].astype(np.float32)
    return x, nxt, (nxt > series[:, T - 1]).astype(np.int64)


def gru_sine():
    seed(0)
    x, nxt, up = sine_windows(540)
    model = klass(GRU_SOURCE, "GruHeads")()
    fit(model, torch.from_numpy(x[:500]), [torch.from_numpy(nxt[:500]).unsqueeze(1), torch.from_numpy(up[:500])], 300, [F.mse_loss, F.cross_entropy])
    d = fixture_dir("graph", "heads_gru_sine")
    os.makedirs(d, exist_ok=True)
    xt = torch.from_numpy(x[500:])
    torch.save(model.state_dict(), os.path.join(d, "model.state_dict.pt"))
    write_text(os.path.join(d, "model.py"), GRU_SOURCE)
    export_onnx(model, xt[:1], os.path.join(d, "model.onnx"), outputs=("next", "up"))
    save_ts(model, xt[:1], d)
    torch.jit.script(model).save(os.path.join(d, "script.pt"))
    names = [f"x{t}_0" for t in range(x.shape[1])]
    write_test_csv(d, names + ["next", "up"], x[500:].reshape(40, -1), [[repr(float(a)), str(int(b))] for a, b in zip(nxt[500:], up[500:])])
    out = outputs(model, xt)
    write_reference_csv(d, out, ["next", "up_0", "up_1"])
    print(f"heads_gru_sine: next MAE {np.abs(out[:, 0] - nxt[500:]).mean():.4f}, up accuracy {float(np.mean(out[:, 1:].argmax(1) == up[500:])):.3f}")


def attn_sine():
    """Self-attention over 6 tokens of 4 channels (the sine at four frequencies), mean-pooled, two heads."""
    seed(0)
    rng = np.random.default_rng(1)
    n, T = 540, 6
    t0 = rng.uniform(0, 20, size=n)
    k = np.arange(T + 1)
    freqs = np.array([0.5, 0.3, 0.8, 1.1])
    series = np.sin(freqs[None, None, :] * (t0[:, None, None] + k[None, :, None])) + rng.normal(0, 0.05, size=(n, T + 1, 4))
    x = series[:, :T, :].astype(np.float32)
    nxt = series[:, T, 0].astype(np.float32)
    up = (nxt > series[:, T - 1, 0]).astype(np.int64)
    model = klass(ATTN_SOURCE, "AttnHeads")()
    fit(model, torch.from_numpy(x[:500]), [torch.from_numpy(nxt[:500]).unsqueeze(1), torch.from_numpy(up[:500])], 300, [F.mse_loss, F.cross_entropy])
    d = fixture_dir("graph", "heads_attn_sine")
    os.makedirs(d, exist_ok=True)
    xt = torch.from_numpy(x[500:])
    torch.save(model.state_dict(), os.path.join(d, "model.state_dict.pt"))
    write_text(os.path.join(d, "model.py"), ATTN_SOURCE)
    # (no ONNX: ml2sc reads self-attention from the state_dict or TorchScript with model.py, not from ONNX's MatMuls)
    save_ts(model, xt[:1], d, check=False)  # (the check re-traces and sees other mangled class names)
    names = [f"x{t}_{c}" for t in range(T) for c in range(4)]
    write_test_csv(d, names + ["next", "up"], x[500:].reshape(40, -1), [[repr(float(a)), str(int(b))] for a, b in zip(nxt[500:], up[500:])])
    out = outputs(model, xt)
    write_reference_csv(d, out, ["next", "up_0", "up_1"])
    print(f"heads_attn_sine: next MAE {np.abs(out[:, 0] - nxt[500:]).mean():.4f}, up accuracy {float(np.mean(out[:, 1:].argmax(1) == up[500:])):.3f}")
