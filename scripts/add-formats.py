#!/usr/bin/python3
"""The formats a committed model.py + state_dict fixture lacks (run with /usr/bin/python3: torch 1.13), written from
its own weights, not retrained: TorchScript trace and script and a whole pickled .pt (its class pickled as
model.<Class>, read with model.py). Before writing, the reloaded model's outputs on test.csv are checked against the
committed reference.csv (PyTorch's outputs when the fixture was made). A format torch itself cannot write (script of
a forward() TorchScript does not compile) is reported and skipped. Files are named as the folder names its own:
model.trace.pt / model.script.pt / model.whole.pt, or trace.pt / script.pt / whole.pt where a trace.pt exists.
Run: /usr/bin/python3 scripts/add-formats.py [fixture …] (default: all below)."""
import os
import sys

import numpy as np
import torch

from fixture_common import fixture_dir
from heads_seq import model_module

# folder under test/fixtures, class, input shape of one row (None: a vector), label columns at the end of test.csv;
# a class whose constructor takes tensors (buffers) gets placeholders of their shape, then the state_dict's values
ARGS = {"StandardizedResidual": lambda: (torch.zeros(13), torch.ones(13))}
FIXTURES = {
    "layers/adaptive_digits": ("AdaptiveNet", (1, 8, 8), 1),
    "layers/pools_digits": ("PoolNet", (1, 8, 8), 1),
    "layers/block_wine": ("BlockNet", None, 1),
    "layers/pools_signal": ("SignalNet", (1, 64), 1),
    "graph/norm_digits": ("NormMLP", None, 1),
    "graph/ln_residual_wine": ("LNResidual", None, 1),
    "graph/standardized_wine": ("StandardizedResidual", None, 1),
    "graph/residual_wine": ("ResidualMLP", None, 1),
    "graph/concat_digits": ("ConcatMLP", None, 1),
    "graph/heads_wine": ("TwoHeads", None, 2),
    "graph/heads_cnn_digits": ("CnnHeads", (1, 8, 8), 2),
    "graph/heads_softmax_wine": ("ProbHeads", None, 2),
    "graph/heads_gru_sine": ("GruHeads", (8, 1), 2),
    "graph/heads_attn_sine": ("AttnHeads", (6, 4), 2),
    "graph/heads_encoder_sine": ("EncoderHeads", (6, 4), 2),
}


def outputs(model, x):
    with torch.no_grad():
        out = model(x)
    return (torch.cat(list(out), dim=1) if isinstance(out, tuple) else out).double().numpy()


def add(name):
    cls, shape, labels = FIXTURES[name]
    d = fixture_dir(*name.split("/"))
    with open(os.path.join(d, "model.py")) as f:
        model = model_module(f.read(), cls)(*ARGS.get(cls, tuple)())
    model.load_state_dict(torch.load(os.path.join(d, "model.state_dict.pt")))
    model.eval()
    rows = np.loadtxt(os.path.join(d, "test.csv"), delimiter=",", skiprows=1, dtype=np.float64)[:, :-labels].astype(np.float32)
    x = torch.from_numpy(rows)
    if shape is not None:
        x = x.reshape(-1, *shape)
    ref = np.loadtxt(os.path.join(d, "reference.csv"), delimiter=",", skiprows=1)[:, 1:]
    gap = np.abs(outputs(model, x) - ref).max()
    assert gap < 1e-5, f"{name}: the reloaded model is {gap} from reference.csv"
    short = os.path.exists(os.path.join(d, "trace.pt"))
    path = lambda kind: os.path.join(d, f"{kind}.pt" if short else f"model.{kind}.pt")
    done = []
    if not os.path.exists(path("trace")):
        torch.jit.trace(model, x[:2]).save(path("trace"))
        done.append("trace")
    if not os.path.exists(path("script")):
        try:
            torch.jit.script(model).save(path("script"))
            done.append("script")
        except Exception as e:  # noqa: BLE001 (torch's own refusal, reported)
            print(f"{name}: torch.jit.script refused: {str(e).splitlines()[0]}")
    if not os.path.exists(path("whole")):
        torch.save(model, path("whole"))
        done.append("whole")
    print(f"{name}: within {gap:.1e} of reference.csv; wrote {', '.join(done) or 'nothing'}")


if __name__ == "__main__":
    for n in sys.argv[1:] or FIXTURES:
        add(n)
