"""Multi-output sequence fixtures beyond heads_gru_sine and heads_attn_sine (run by scripts/make-heads-fixture.py):
- graph/heads_lstm_sine/: an LSTM(1, 8) over 8 steps of the noisy sine, its last output into the next/up heads;
  model.py + model.state_dict.pt, model.onnx (output_names next, up), trace.pt, script.pt, whole.pt
  (torch.save of the module, its class pickled as model.LstmHeads: read with model.py);
- graph/heads_encoder_sine/: a TransformerEncoderLayer(4, 2 heads, 8, relu, post-norm) over 6 tokens of 4
  channels, mean-pooled, into the next/up heads; model.py + model.state_dict.pt, model.onnx, trace.pt, script.pt;
- graph/heads_attn_sine/model.onnx: the committed MultiheadAttention(4, 2) heads model (its state_dict, not
  retrained) exported with output_names next, up; its outputs are checked against the committed reference.csv.
Each model's source is exec'd as module `model`, so that the class PyTorch trains (and pickles) is model.py's."""
import linecache
import os
import sys
import types

import numpy as np
import torch
import torch.nn.functional as F

from fixture_common import export_onnx, fixture_dir, seed, write_reference_csv, write_test_csv, write_text
from heads_more import fit, outputs, sine_windows

LSTM_SOURCE = '''import torch
import torch.nn as nn


class LstmHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(1, 8, batch_first=True)
        self.next = nn.Linear(8, 1)
        self.up = nn.Linear(8, 2)

    def forward(self, x):
        out, (h, c) = self.lstm(x)
        last = out[:, -1, :]
        return self.next(last), self.up(last)
'''

ENCODER_SOURCE = '''import torch
import torch.nn as nn


class EncoderHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.TransformerEncoderLayer(4, 2, 8, dropout=0.1, batch_first=True)
        self.next = nn.Linear(4, 1)
        self.up = nn.Linear(4, 2)

    def forward(self, x):
        h = self.enc(x)
        m = h.mean(dim=1)
        return self.next(m), self.up(m)
'''


def model_module(source, name):
    """The class from its source, exec'd as module `model` (registered, so torch.save pickles model.<name>, and
    in linecache, so torch.jit.script reads its source)."""
    filename = f"<model.py {name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    mod = types.ModuleType("model")
    mod.__file__ = filename
    sys.modules["model"] = mod
    exec(compile(source, filename, "exec"), mod.__dict__)
    return getattr(mod, name)


def sine4_windows(n=540, T=6):
    """The heads_attn_sine data: the sine at four frequencies as 4 channels over T tokens; next value, up or not."""
    rng = np.random.default_rng(1)
    t0 = rng.uniform(0, 20, size=n)
    k = np.arange(T + 1)
    freqs = np.array([0.5, 0.3, 0.8, 1.1])
    series = np.sin(freqs[None, None, :] * (t0[:, None, None] + k[None, :, None])) + rng.normal(0, 0.05, size=(n, T + 1, 4))
    x = series[:, :T, :].astype(np.float32)
    nxt = series[:, T, 0].astype(np.float32)
    return x, nxt, (nxt > series[:, T - 1, 0]).astype(np.int64)


def save_heads(d, name, source, model, x, nxt, up, whole=False, check_trace=True):
    """model.py + model.state_dict.pt, model.onnx (next, up), trace.pt, script.pt (and whole.pt); test.csv of the
    last 40 windows flattened step by step with the next/up columns; reference.csv of PyTorch's outputs on them."""
    os.makedirs(d, exist_ok=True)
    xt = torch.from_numpy(x[500:])
    torch.save(model.state_dict(), os.path.join(d, "model.state_dict.pt"))
    write_text(os.path.join(d, "model.py"), source)
    export_onnx(model, xt[:1], os.path.join(d, "model.onnx"), outputs=("next", "up"))
    torch.jit.trace(model, xt[:1], check_trace=check_trace).save(os.path.join(d, "trace.pt"))
    torch.jit.script(model).save(os.path.join(d, "script.pt"))
    if whole:
        torch.save(model, os.path.join(d, "whole.pt"))
    T, C = x.shape[1], x.shape[2]
    names = [f"x{t}_{c}" for t in range(T) for c in range(C)]
    write_test_csv(d, names + ["next", "up"], x[500:].reshape(40, -1), [[repr(float(a)), str(int(b))] for a, b in zip(nxt[500:], up[500:])])
    with torch.no_grad():
        out = outputs(model, xt)
    write_reference_csv(d, out, ["next", "up_0", "up_1"])
    print(f"{name}: next MAE {np.abs(out[:, 0] - nxt[500:]).mean():.4f}, up accuracy {float(np.mean(out[:, 1:].argmax(1) == up[500:])):.3f}")


def lstm_sine():
    seed(0)
    x, nxt, up = sine_windows(540)
    model = model_module(LSTM_SOURCE, "LstmHeads")()
    fit(model, torch.from_numpy(x[:500]), [torch.from_numpy(nxt[:500]).unsqueeze(1), torch.from_numpy(up[:500])], 300, [F.mse_loss, F.cross_entropy])
    save_heads(fixture_dir("graph", "heads_lstm_sine"), "heads_lstm_sine", LSTM_SOURCE, model, x, nxt, up, whole=True)


def encoder_sine():
    seed(0)
    x, nxt, up = sine4_windows()
    model = model_module(ENCODER_SOURCE, "EncoderHeads")()
    fit(model, torch.from_numpy(x[:500]), [torch.from_numpy(nxt[:500]).unsqueeze(1), torch.from_numpy(up[:500])], 300, [F.mse_loss, F.cross_entropy])
    save_heads(fixture_dir("graph", "heads_encoder_sine"), "heads_encoder_sine", ENCODER_SOURCE, model, x, nxt, up, check_trace=False)


def attn_onnx():
    d = fixture_dir("graph", "heads_attn_sine")
    with open(os.path.join(d, "model.py")) as f:
        source = f.read()
    model = model_module(source, "AttnHeads")()
    model.load_state_dict(torch.load(os.path.join(d, "model.state_dict.pt")))
    model.eval()
    x, _, _ = sine4_windows()
    xt = torch.from_numpy(x[500:])
    export_onnx(model, xt[:1], os.path.join(d, "model.onnx"), outputs=("next", "up"))
    ref = np.loadtxt(os.path.join(d, "reference.csv"), delimiter=",", skiprows=1)[:, 1:]
    gap = np.abs(outputs(model, xt) - ref).max()
    assert gap < 1e-6, f"heads_attn_sine: the reloaded model is {gap} from reference.csv"
    print(f"heads_attn_sine: model.onnx written, reloaded outputs within {gap:.1e} of reference.csv")
