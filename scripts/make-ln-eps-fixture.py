#!/usr/bin/python3
"""Issue 19: a LayerNorm with a non-default eps (0.1), trained by real PyTorch on wine (run with /usr/bin/python3,
torch 1.13). Writes test/fixtures/graph/ln_eps_wine/: model.py, model.state_dict.pt, model.trace.pt (the trace
writes `torch.layer_norm(input, [16], weight, bias, 0.1…)`), model.script.pt, test.csv and reference.csv
(PyTorch's outputs). eps 0.1 against the default 1e-5 moves the outputs by far more than 1e-5, so a reader that
dropped it would show.
"""
import importlib.util
import os

import torch

from fixture_common import fixture_dir, load, seed, train, write_classifier_outputs, write_text

SOURCE = '''import torch.nn as nn
import torch.nn.functional as F


class LNEps(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(13, 16)
        self.ln = nn.LayerNorm(16, eps=0.1)
        self.out = nn.Linear(16, 3)

    def forward(self, x):
        return self.out(F.relu(self.ln(self.fc(x))))
'''



def main():
    d = fixture_dir("graph", "ln_eps_wine")
    os.makedirs(d, exist_ok=True)
    write_text(os.path.join(d, "model.py"), SOURCE)
    # imported from the file (torch.jit.script reads the class's source)
    spec = importlib.util.spec_from_file_location("model", os.path.join(d, "model.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    seed(0)
    Xtr, Xte, ytr, yte, names = load("wine", 20)
    model = train(mod.LNEps(), Xtr, ytr, 100, 0.01)
    model.eval()
    x = torch.from_numpy(Xte)
    torch.save(model.state_dict(), os.path.join(d, "model.state_dict.pt"))
    torch.jit.trace(model, x[:2]).save(os.path.join(d, "model.trace.pt"))
    torch.jit.script(model).save(os.path.join(d, "model.script.pt"))
    write_classifier_outputs(d, "ln_eps_wine", model, Xte, yte, names)


if __name__ == "__main__":
    main()
