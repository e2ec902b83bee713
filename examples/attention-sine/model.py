import torch
import torch.nn as nn


class AttnForecaster(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(8, 1, batch_first=True)
        self.fc = nn.Linear(8, 1)

    def forward(self, x):
        a, _ = self.attn(x, x, x)
        return self.fc(a.mean(dim=1))
