// Adversarial review (branch layers): model.py variants of the embed_wine fixture whose nn.Embedding lookup
// PyTorch computes differently from a plain one-hot fold. Each must be read exactly or refused in one line;
// a model read silently with another meaning than PyTorch's breaks "equal to PyTorch".
import { afterAll, describe, expect, test } from 'bun:test'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { loadModel } from '../../src/model/loadModel.ts'
import { FIXTURES } from '../helpers/paths.ts'

const SRC = path.join(FIXTURES, 'layers', 'embed_wine')
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ml2sc-review-emb-'))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))
const base = fs.readFileSync(path.join(SRC, 'model.py'), 'utf8')

/** Load the fixture's state_dict with an edited model.py: the IR, or the refusal's message. */
async function read(edit: (src: string) => string, name: string): Promise<{ ok: true; categorical: unknown } | { ok: false; message: string }> {
  const src = path.join(dir, `${name}.py`)
  fs.writeFileSync(src, edit(base))
  try {
    const m = await loadModel({ path: path.join(SRC, 'model.state_dict.pt'), source: src } as Parameters<typeof loadModel>[0])
    return { ok: true, categorical: m.categorical }
  } catch (e) {
    return { ok: false, message: (e as Error).message }
  }
}

describe('review: nn.Embedding readers against lookups that are not a plain one-hot', () => {
  test('control: the fixture as written is read with its two categorical columns', async () => {
    const r = await read((s) => s, 'control')
    expect(r.ok).toBe(true)
  })

  // nn.Embedding(max_norm=...) renormalises every looked-up row whose norm exceeds max_norm, at inference too:
  // the folded table T = W_E·Eᵀ uses the raw rows, so PyTorch's outputs differ from the contract's.
  test('nn.Embedding(n, d, max_norm=0.01) is refused (it renormalises rows at lookup), not folded as a plain table', async () => {
    const r = await read((s) => s.replace('nn.Embedding(n_a, 3)', 'nn.Embedding(n_a, 3, max_norm=0.01)'), 'maxnorm')
    expect(r.ok).toBe(false)
  })

  // an offset index: emb(x[:, 0].long() + 1) looks up category x+1, not x
  test('emb(x[:, 0].long() + 1) is refused or read with the shift', async () => {
    const r = await read((s) => s.replace('self.emb_a(x[:, 0].long())', 'self.emb_a(x[:, 0].long() + 1)'), 'shift')
    expect(r.ok).toBe(false)
  })

  test('emb(x[:, 0].long().clamp(0, 5)) is refused (PyTorch clamps where the contract reverts)', async () => {
    const r = await read((s) => s.replace('self.emb_a(x[:, 0].long())', 'self.emb_a(x[:, 0].long().clamp(0, 5))'), 'clamp')
    expect(r.ok).toBe(false)
  })

  test('an embedding of a computed column (x[:, 0] * 2) is refused', async () => {
    const r = await read((s) => s.replace('self.emb_a(x[:, 0].long())', 'self.emb_a((x[:, 0] * 2).long())'), 'scaled')
    expect(r.ok).toBe(false)
  })

  test('an embedding output scaled before the concat (a * 2) is refused or folded with the factor', async () => {
    const r = await read((s) => s.replace("h = torch.cat([a, b, x[:, 2:]], dim=1)", 'h = torch.cat([a * 2, b, x[:, 2:]], dim=1)'), 'ascaled')
    expect(r.ok).toBe(false)
  })

  test('an embedding output through an activation before the concat (torch.tanh(a)) is refused', async () => {
    const r = await read((s) => s.replace("h = torch.cat([a, b, x[:, 2:]], dim=1)", 'h = torch.cat([torch.tanh(a), b, x[:, 2:]], dim=1)'), 'atanh')
    expect(r.ok).toBe(false)
  })

  test('the same column read twice (embedding and numeric slice x[:, 0:]) is refused', async () => {
    const r = await read((s) => s.replace('x[:, 2:]', 'x[:, 0:]').replace('3 + 2 + n_num', '3 + 2 + n_num + 2'), 'twice')
    expect(r.ok).toBe(false)
  })

  // a later layer reading x again would see the raw category index in PyTorch, the one-hot vector on chain
  test('a later torch.cat([h, x]) that reads the raw input again (category indices as numbers) is refused', async () => {
    const r = (() => { let v = 7; return () => ((v = (v * 16807) % 2147483647) / 2147483647) * 2 - 1 })()
    const mat = (a: number, b: number) => Array.from({ length: a }, () => Array.from({ length: b }, r))
    const sd = { 'emb_a.weight': mat(6, 3), 'emb_b.weight': mat(4, 2), 'fc1.weight': mat(16, 16), 'fc1.bias': mat(1, 16)[0], 'out.weight': mat(3, 16 + 13), 'out.bias': mat(1, 3)[0] }
    fs.writeFileSync(path.join(dir, 'skip.json'), JSON.stringify(sd))
    const src = base.replace('self.out = nn.Linear(hidden, n_out)', 'self.out = nn.Linear(hidden + 13, n_out)').replace('return self.out(h)', 'return self.out(torch.cat([h, x], dim=1))')
    expect(src).toContain('torch.cat([h, x], dim=1)')
    fs.writeFileSync(path.join(dir, 'skip.py'), src)
    const load = loadModel({ path: path.join(dir, 'skip.json'), source: path.join(dir, 'skip.py') } as Parameters<typeof loadModel>[0])
    await expect(load).rejects.toThrow(/nn.Embedding is supported only on the model's input columns/)
  })
})
