#!/usr/bin/python3
"""A two-head model for issue 19 (multi-output models), trained by real PyTorch (run with /usr/bin/python3).

Writes test/fixtures/graph/heads_wine/: a shared trunk over 12 standardised wine features, a classification
head (the 3 cultivars, logits) and a regression head (the wine's alcohol %, a short Linear-ReLU-Linear
chain), trained jointly (cross-entropy + MSE). forward() returns the tuple (logits, alcohol).
- model.py: the nn.Module source ml2sc reads; model.state_dict.pt: the weights;
- model.onnx: the same model exported with two named graph outputs, output_names=["logits", "alcohol"];
- test.csv: held-out rows, the class column `label` and the regression target `alcohol`;
- reference.csv: PyTorch's float outputs for them, head after head (logits 0..2, then alcohol).
The outputs are committed, so tests never need torch.

Also (each in several formats, with PyTorch's outputs head after head in reference.csv):
- graph/heads_softmax_wine/: the same data, a probability head and the alcohol head. model.py returns
  (F.softmax(self.cls(h), dim=1), alcohol); model_log.py has the class head as nn.Sequential(Linear,
  nn.LogSoftmax(dim=1)) (the same trained weights, renamed: model_log.state_dict.pt, reference_log.csv);
  model.onnx / model_log.onnx (Softmax / LogSoftmax on one of two outputs), trace.pt and script.pt.
- graph/heads_cnn_digits/: an 8×8 digits CNN (conv 1→4 3×3, ReLU, max pool 2, flatten 64) with a class
  head (Linear 64→10) and a regression head (Linear 64→8, ReLU, Linear 8→1: the digit's mean ink);
  model.py + model.state_dict.pt, model.onnx, trace.pt.
- graph/heads_gru_sine/: a GRU(1, 8) over 8 steps of the noisy sine, its last hidden state into a
  regression head (the next value) and a class head (2 logits: does the series go up next);
  model.py + model.state_dict.pt, model.onnx, trace.pt, script.pt.
- graph/heads_attn_sine/: nn.MultiheadAttention(4, 2) over 6 tokens of 4 channels, mean-pooled, into the
  same two heads (next, up); model.py + model.state_dict.pt, trace.pt, and model.onnx (heads_attn_onnx: the
  same weights exported with output_names next, up).
- graph/heads_lstm_sine/ (LSTM(1, 8), the GRU's heads) and graph/heads_encoder_sine/ (TransformerEncoderLayer(4,
  2 heads), mean-pooled, the same heads): see scripts/heads_seq.py.
Run all: /usr/bin/python3 scripts/make-heads-fixture.py; only some: ... heads_cnn_digits heads_gru_sine.
"""
import sys
import os

import numpy as np
import torch
import torch.nn.functional as F
from sklearn import datasets
from sklearn.model_selection import train_test_split

from fixture_common import export_onnx, fixture_dir, seed, write_reference_csv, write_test_csv, write_text

ROOT = fixture_dir("graph", "heads_wine")

SOURCE = '''import torch.nn as nn
import torch.nn.functional as F


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk1 = nn.Linear(12, 16)
        self.trunk2 = nn.Linear(16, 16)
        self.cls = nn.Linear(16, 3)
        self.reg1 = nn.Linear(16, 8)
        self.reg2 = nn.Linear(8, 1)

    def forward(self, x):
        h = F.relu(self.trunk1(x))
        h = F.relu(self.trunk2(h))
        logits = self.cls(h)
        alcohol = self.reg2(F.relu(self.reg1(h)))
        return logits, alcohol
'''

scope = {}
exec(SOURCE, scope)


def main():
    seed(0)
    ds = datasets.load_wine()
    X = ds.data.astype(np.float64)
    y = ds.target.astype(np.int64)
    alcohol, X = X[:, 0], X[:, 1:]
    names = [n.replace("/", "_") for n in ds.feature_names[1:]]
    Xtr, Xte, ytr, yte, atr, ate = train_test_split(X, y, alcohol, test_size=40, random_state=0, stratify=y)
    mu, sd = Xtr.mean(0), Xtr.std(0)
    Xtr, Xte = ((Xtr - mu) / sd).astype(np.float32), ((Xte - mu) / sd).astype(np.float32)
    model = scope["TwoHeads"]()
    with torch.no_grad():
        model.reg2.bias.fill_(float(atr.mean()))  # start the regression head at the mean alcohol
    opt = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=1e-3)
    Xt, yt, at = torch.from_numpy(Xtr), torch.from_numpy(ytr), torch.from_numpy(atr.astype(np.float32)).unsqueeze(1)
    for _ in range(400):
        model.train()
        opt.zero_grad()
        logits, a = model(Xt)
        (F.cross_entropy(logits, yt) + F.mse_loss(a, at)).backward()
        opt.step()
    model.eval()
    os.makedirs(ROOT, exist_ok=True)
    torch.save(model.state_dict(), os.path.join(ROOT, "model.state_dict.pt"))
    export_onnx(model, torch.zeros(2, Xte.shape[1]), os.path.join(ROOT, "model.onnx"), outputs=("logits", "alcohol"))
    write_text(os.path.join(ROOT, "model.py"), SOURCE)
    with torch.no_grad():
        logits, a = model(torch.from_numpy(Xte))
    out = torch.cat([logits, a], dim=1).double().numpy()
    write_test_csv(ROOT, names + ["label", "alcohol"], Xte, [[str(int(label)), repr(float(alc))] for label, alc in zip(yte, ate)])
    write_reference_csv(ROOT, out, ["logits_0", "logits_1", "logits_2", "alcohol"])
    acc = float(np.mean(out[:, :3].argmax(1) == yte))
    rmse = float(np.sqrt(np.mean((out[:, 3] - ate) ** 2)))
    print(f"heads_wine: {len(Xte)} test rows, PyTorch accuracy {acc:.3f}, alcohol RMSE {rmse:.3f} (std {ate.std():.3f})")


def wanted(name):
    return len(sys.argv) < 2 or name in sys.argv[1:]


if __name__ == "__main__":
    if wanted("heads_wine"):
        main()
    from heads_more import attn_sine, cnn_digits, gru_sine, softmax_wine
    if wanted("heads_softmax_wine"):
        softmax_wine()
    if wanted("heads_cnn_digits"):
        cnn_digits()
    if wanted("heads_gru_sine"):
        gru_sine()
    if wanted("heads_attn_sine"):
        attn_sine()
    from heads_seq import attn_onnx, encoder_sine, lstm_sine
    if wanted("heads_attn_sine") or wanted("heads_attn_onnx"):
        attn_onnx()
    if wanted("heads_lstm_sine"):
        lstm_sine()
    if wanted("heads_encoder_sine"):
        encoder_sine()
