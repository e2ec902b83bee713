#!/usr/bin/python3
"""Self-attention fixtures (issue 20), made with real PyTorch (Debian python3-torch 1.13):

    /usr/bin/python3 scripts/make-attention-fixtures.py

- attn_sine: a forecaster, nn.MultiheadAttention(8, 1, batch_first=True) as self-attention over 16 tokens of 8
  channels (8 noisy sines of different frequencies plus a shared trend), mean-pooled over the tokens, then
  nn.Linear(8, 1): the next value of channel 0 (regression).
- attn2_cls: a sequence classifier, nn.MultiheadAttention(8, 2) (batch_first=False) over 16 tokens of 8
  features, the last token's output, then nn.Linear(8, 3): which shape (rising, falling, oscillating).
- encoder_cls: a tiny nn.TransformerEncoderLayer(8, 2, 16, batch_first=True) (post-norm, relu), mean-pooled,
  then Linear(8, 3), same data. Its whole .pt pickles F.relu as the layer's activation (a name ml2sc's unpickler
  records, never calls).
Each is written as a state_dict .pt with model.py, a whole-model .pt, TorchScript (trace), safetensors,
weights.json and ONNX (opset 13), beside test.csv (the window flattened token by token, C order of [T, F],
and the label) and PyTorch's own outputs on the test rows (reference.csv). Output: test/fixtures/seq/<name>/.
"""
import os

import numpy as np
import torch
import torch.nn as nn

from fixture_common import add_formats, fixture_dir, module_source, save_sequence_fixture, train_sequence

torch.manual_seed(0)
ROOT = fixture_dir("seq")


class AttnForecaster(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(8, 1, batch_first=True)
        self.fc = nn.Linear(8, 1)

    def forward(self, x):
        a, _ = self.attn(x, x, x)
        return self.fc(a.mean(dim=1))


class AttnClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(8, 2)
        self.head = nn.Linear(8, 3)

    def forward(self, x):  # x: [T, N, E] (batch_first=False)
        a, w = self.attn(x, x, x, need_weights=False)
        return self.head(a[-1])


class EncoderClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.1, batch_first=True)
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        h = self.enc(x)
        return self.head(h.mean(dim=1))


def sine_data(n, T=16, C=8, seed=0):
    rng = np.random.default_rng(seed)
    t0 = rng.uniform(0, 20, size=n)
    w = np.linspace(0.2, 0.9, C)
    k = np.arange(T + 1)
    trend = rng.uniform(-0.05, 0.05, size=n)
    s = np.sin(w[None, None, :] * (t0[:, None, None] + k[None, :, None])) + (trend[:, None] * k[None, :])[:, :, None]
    s = s + rng.normal(0, 0.05, size=s.shape)
    return s[:, :T, :].astype(np.float32), s[:, T, :1].astype(np.float32)


def shape_data(n, T=16, C=8, seed=1):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n)
    k = np.arange(T) / T
    x = rng.normal(0, 0.2, size=(n, T, C)).astype(np.float32)
    for i in range(n):
        a = rng.uniform(0.5, 1.5)
        base = [a * k, a * (1 - k), a * np.sin(2 * np.pi * 2 * k)][y[i]]
        x[i, :, 0] += base
        x[i, :, 1] += base[::-1] * 0.5
    return x, y


def save(name, model, x_test, y_test, label_name, batch_first):
    save_sequence_fixture(os.path.join(ROOT, name), model, module_source(type(model)), x_test, y_test, label_name,
                          batch_first, check_trace=False, safetensors=True, weights_json=True)




# --- ONNX variants (issue 20, part 1): run with `make-attention-fixtures.py onnx` to write only these ---------
# - attn_sine/model_dynamic.onnx and attn2_cls/model_dynamic.onnx: the committed models (whole.pt) exported
#   with a dynamic batch axis (the Reshapes' shapes then come from Shape arithmetic), opset 14;
# - encoder_pre: nn.TransformerEncoderLayer(8, 4, 16, norm_first=True, activation="gelu", batch_first=True),
#   flattened into Linear(128, 3), in every format (its whole .pt pickles F.gelu: refused by the unpickler);
# - attn_refused/{mask,cross,kdim}.onnx: untrained models ml2sc must refuse in one line (a causal attn_mask,
#   cross-attention attn(x, h, h), kdim ≠ embed_dim);
# - scripted.pt (torch.jit.script) of attn_sine, attn2_cls, encoder_cls and encoder_pre, from their whole.pt;
# - attn2_cls/model_softmax.onnx: the classifier with a Softmax after its head (`softmax` writes only this).


class EncoderPreNorm(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.TransformerEncoderLayer(8, 4, 16, dropout=0.0, activation="gelu", batch_first=True, norm_first=True)
        self.head = nn.Linear(128, 3)

    def forward(self, x):
        h = self.enc(x)
        return self.head(h.flatten(1))


class Masked(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(8, 1, batch_first=True)
        self.fc = nn.Linear(8, 1)
        self.register_buffer("mask", torch.triu(torch.ones(16, 16, dtype=torch.bool), 1))

    def forward(self, x):
        a, _ = self.attn(x, x, x, attn_mask=self.mask)
        return self.fc(a.mean(dim=1))


class Cross(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Linear(8, 8)
        self.attn = nn.MultiheadAttention(8, 1, batch_first=True)
        self.fc = nn.Linear(8, 1)

    def forward(self, x):
        h = self.emb(x)
        a, _ = self.attn(x, h, h)
        return self.fc(a.mean(dim=1))


class Kdim(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(8, 1, kdim=8, vdim=4, batch_first=True)
        self.fc = nn.Linear(8, 1)

    def forward(self, x):
        a, _ = self.attn(x, x, x[:, :, :4])
        return self.fc(a.mean(dim=1))


def onnx_variants():
    for name, bf in (("attn_sine", True), ("attn2_cls", False)):
        m = torch.load(os.path.join(ROOT, name, "whole.pt"))
        m.eval()
        ex = torch.zeros(2, 16, 8) if bf else torch.zeros(16, 2, 8)
        torch.onnx.export(m, ex, os.path.join(ROOT, name, "model_dynamic.onnx"), opset_version=14, input_names=["x"],
                          output_names=["y"], dynamic_axes={"x": {0 if bf else 1: "batch"}, "y": {0: "batch"}})
    torch.manual_seed(3)
    xs, ys = shape_data(600)
    pre = EncoderPreNorm()
    print("encoder_pre loss", train_sequence(pre, xs[:500], ys[:500], nn.CrossEntropyLoss(), 150))
    save("encoder_pre", pre, xs[500:532], ys[500:532], "label", True)
    d = os.path.join(ROOT, "attn_refused")
    os.makedirs(d, exist_ok=True)
    for name, m in (("mask", Masked()), ("cross", Cross()), ("kdim", Kdim())):
        m.eval()
        torch.onnx.export(m, torch.zeros(1, 16, 8), os.path.join(d, f"{name}.onnx"), opset_version=13, input_names=["x"], output_names=["y"])
    script_formats()
    softmax_variant()


class WithSoftmax(nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return torch.softmax(self.inner(x), -1)


def softmax_variant():
    """attn2_cls/model_softmax.onnx: the classifier with a Softmax after its head (a second Softmax in the graph,
    not attention's); its outputs are the softmax of reference.csv's rows."""
    m = WithSoftmax(torch.load(os.path.join(ROOT, "attn2_cls", "whole.pt")))
    m.eval()
    torch.onnx.export(m, torch.zeros(16, 1, 8), os.path.join(ROOT, "attn2_cls", "model_softmax.onnx"), opset_version=13,
                      input_names=["x"], output_names=["y"])


def script_formats():
    """TorchScript script of every attention fixture (issue 20's format matrix), from its whole.pt."""
    for name in ("attn_sine", "attn2_cls", "encoder_cls", "encoder_pre"):
        add_formats(os.path.join(ROOT, name), safetensors=False)


def main():
    x, y = sine_data(600)
    f1 = AttnForecaster()
    print("attn_sine loss", train_sequence(f1, x[:500], y[:500], nn.MSELoss(), 300))
    save("attn_sine", f1, x[500:532], y[500:532, 0], "next", True)

    xs, ys = shape_data(600)
    c2 = AttnClassifier()
    print("attn2_cls loss", train_sequence(c2, xs[:500], ys[:500], nn.CrossEntropyLoss(), 200, batch_first=False))
    with torch.no_grad():
        print("attn2_cls test accuracy", (c2(torch.tensor(xs[500:]).transpose(0, 1)).argmax(1).numpy() == ys[500:]).mean())
    save("attn2_cls", c2, xs[500:532], ys[500:532], "label", False)

    enc = EncoderClassifier()
    print("encoder_cls loss", train_sequence(enc, xs[:500], ys[:500], nn.CrossEntropyLoss(), 150))
    save("encoder_cls", enc, xs[500:532], ys[500:532], "label", True)


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["onnx"]:
        onnx_variants()
    elif sys.argv[1:] == ["formats"]:
        script_formats()
    elif sys.argv[1:] == ["softmax"]:
        softmax_variant()
    else:
        main()
        onnx_variants()
