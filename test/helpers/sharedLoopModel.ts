// A model that applies one nn.Linear three times in a loop (`for _ in range(3): x = F.relu(self.fc(x))`), as
// model.py + a JSON state_dict of seeded random weights written into a folder: inp Linear(4, h), fc
// Linear(h, h), out Linear(h, 2). The weights are the test's own: what is checked is how the loop is read,
// stored and run, not agreement with a trained model.
import { writeFileSync } from 'node:fs'
import path from 'node:path'

export const sharedLoopSource = (h: number) => `import torch
from torch import nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp = nn.Linear(4, ${h})
        self.fc = nn.Linear(${h}, ${h})
        self.out = nn.Linear(${h}, 2)

    def forward(self, x):
        x = F.relu(self.inp(x))
        for _ in range(3):
            x = F.relu(self.fc(x))
        return self.out(x)
`

export type StateDict = Record<string, number[][] | number[]>

/** model.py and weights.json (seed `seed`, hidden width `h`) in `dir`; returns the state_dict written. */
export function writeSharedLoopModel(dir: string, h = 5, seed = 7): StateDict {
  let s = seed
  const rnd = () => (s = (s * 16807) % 2147483647) / 2147483647 - 0.5
  const matrix = (r: number, c: number) => Array.from({ length: r }, () => Array.from({ length: c }, () => rnd() * (2 / Math.sqrt(c))))
  const vector = (n: number) => Array.from({ length: n }, () => rnd() / 5)
  const sd: StateDict = { 'inp.weight': matrix(h, 4), 'inp.bias': vector(h), 'fc.weight': matrix(h, h), 'fc.bias': vector(h), 'out.weight': matrix(2, h), 'out.bias': vector(2) }
  writeFileSync(path.join(dir, 'model.py'), sharedLoopSource(h))
  writeFileSync(path.join(dir, 'weights.json'), JSON.stringify(sd))
  return sd
}
