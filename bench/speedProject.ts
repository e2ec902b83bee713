// A 784-128-10 ReLU MLP project for the speed bench (bench/speed.ts): seeded random weights (He-scaled, as
// a freshly initialised nn.Linear would be), written as ML2SC-style weights JSON with model.layers, and a
// test CSV of MNIST-shaped rows (784 features in [0, 1], a label 0..9). Speed does not depend on training.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

/** Deterministic numbers in [0, 1) (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const round = (x: number) => Math.round(x * 1e6) / 1e6

/** Writes model weights.json, test.csv (`rows` rows) and ml2sc.yaml into a fresh folder; returns the config path. */
export function mnistMlpProject(rows: number, opts: { sizes?: number[]; seed?: number; extraYaml?: string } = {}): string {
  const sizes = opts.sizes ?? [784, 128, 10]
  const r = rng(opts.seed ?? 7)
  const dir = mkdtempSync(path.join(tmpdir(), 'ml2sc-speed-'))
  const weights: Record<string, number[][] | number[]> = {}
  for (let l = 1; l < sizes.length; l++) {
    const [fin, fout] = [sizes[l - 1]!, sizes[l]!]
    const scale = Math.sqrt(6 / fin)
    weights[`fc${l}.weight`] = Array.from({ length: fout }, () => Array.from({ length: fin }, () => round((r() * 2 - 1) * scale)))
    weights[`fc${l}.bias`] = Array.from({ length: fout }, () => round((r() * 2 - 1) * 0.1))
  }
  writeFileSync(path.join(dir, 'weights.json'), JSON.stringify(weights))
  const head = [...Array.from({ length: sizes[0]! }, (_, i) => `x${i}`), 'label'].join(',')
  const lines = [head]
  for (let i = 0; i < rows; i++) lines.push([...Array.from({ length: sizes[0]! }, () => (r() < 0.8 ? '0' : String(Math.round(r() * 255) / 255).slice(0, 6))), String(i % 10)].join(','))
  writeFileSync(path.join(dir, 'test.csv'), lines.join('\n') + '\n')
  const layers = sizes.slice(1).flatMap((_, i) => (i < sizes.length - 2 ? ['linear', 'relu'] : ['linear']))
  writeFileSync(path.join(dir, 'ml2sc.yaml'), `model:\n  path: weights.json\n  layers: [${layers.join(', ')}]\ndata:\n  test: test.csv\n  label: label\n${opts.extraYaml ?? ''}`)
  return path.join(dir, 'ml2sc.yaml')
}

if (import.meta.main) console.log(mnistMlpProject(Number(process.argv[2] ?? 1000)))
