// Speed targets of issue 22, each measured as a ratio in one run (ratios hold on a busy machine better
// than absolute times; both are written down):
//   1. `ml2sc --help`: CPU (user + sys) against `node -e 0`            target ≤ 3×
//   2. `predict --offchain` on 2,000 rows against 20 rows (784-128-10)   target ≤ 1.5×
//   3. `run` over 1,000 rows against 20 rows (784-128-10, embedded anvil) target ≤ 2×
//   4. the simulator, rows per CPU second (bench/simSpeed.ts): 784-128-10 ≥ 5,000, the MNIST CNN ≥ 200
//
//   node_modules/.bin/bun bench/speed.ts        → bench/SPEED.md and bench/speed.json
import { spawnSync } from 'node:child_process'
import { copyFileSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import path from 'node:path'
import { simulatorSpeed } from './simSpeed.ts'
import { mnistMlpProject } from './speedProject.ts'

const ROOT = path.resolve(import.meta.dir, '..')
const CLI = path.join(ROOT, 'bin/ml2sc')

/** Wall seconds and CPU seconds (user + sys of the child and its children) of one command. */
function measure(cmd: string[], cwd = ROOT): { wall: number; cpu: number } {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S', ...cmd], { cwd, encoding: 'utf8', env: { ...process.env, CI: '1' }, maxBuffer: 1 << 28 })
  const line = r.stderr.trim().split('\n').at(-1)!
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed (${r.status}):\n${r.stderr.slice(-2000)}`)
  const [wall, user, sys] = line.split(' ').map(Number)
  return { wall: wall!, cpu: user! + sys! }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d

// 1. start-up
const node = median(Array.from({ length: 5 }, () => measure(['node', '-e', '0']).cpu))
const help = median(Array.from({ length: 5 }, () => measure([CLI, '--help']).cpu))

// 2. predict --offchain: the same config (20 test rows), inputs of 20 and 2,000 rows
const cfg = mnistMlpProject(2_000)
const dir = path.dirname(cfg)
writeFileSync(path.join(dir, 'ml2sc.yaml'), `model:\n  path: weights.json\n  layers: [linear, relu, linear]\ndata:\n  test: test.csv\n  label: label\n  limit: 20\n`)
const csv = (await Bun.file(path.join(dir, 'test.csv')).text()).split('\n')
writeFileSync(path.join(dir, 'rows20.csv'), csv.slice(0, 21).join('\n') + '\n')
copyFileSync(path.join(dir, 'test.csv'), path.join(dir, 'rows2000.csv'))
measure([CLI, 'predict', 'ml2sc.yaml', '--input', 'rows20.csv', '--offchain', '--json'], dir) // warm the file cache
// three of each, interleaved, and the median of each figure: one run swings by ±20% on a busy machine
const predictRuns = Array.from({ length: 3 }, () => [20, 2000].map((n) => measure([CLI, 'predict', 'ml2sc.yaml', '--input', `rows${n}.csv`, '--offchain', '--json'], dir)))
const medianOf = (k: 0 | 1) => ({ wall: median(predictRuns.map((r) => r[k]!.wall)), cpu: median(predictRuns.map((r) => r[k]!.cpu)) })
const p20 = medianOf(0)
const p2000 = medianOf(1)

// 4. the simulator, in this process (rows per CPU second)
const sim = await simulatorSpeed(cfg)

// 3. run: data.limit 20 and 1,000 on the same CSV, each on a fresh embedded anvil
const runOf = (limit: number) => {
  writeFileSync(path.join(dir, `run${limit}.yaml`), `model:\n  path: weights.json\n  layers: [linear, relu, linear]\ndata:\n  test: test.csv\n  label: label\n  limit: ${limit}\noutput: out-${limit}\n`)
  return measure([CLI, 'run', `run${limit}.yaml`, '--quiet'], dir)
}
const r20 = runOf(20)
const r1000 = runOf(1_000)

const rows = [
  { target: '`ml2sc --help` CPU vs `node -e 0` CPU', a: `${round(help)} s`, b: `${round(node)} s`, ratio: round(help / node, 1), goal: 3 },
  { target: '`predict --offchain` 2,000 rows vs 20 rows (784-128-10), wall', a: `${round(p2000.wall, 1)} s`, b: `${round(p20.wall, 1)} s`, ratio: round(p2000.wall / p20.wall), goal: 1.5 },
  { target: '… the same, CPU (user + sys)', a: `${round(p2000.cpu, 1)} s`, b: `${round(p20.cpu, 1)} s`, ratio: round(p2000.cpu / p20.cpu), goal: 1.5 },
  { target: '`run` 1,000 rows vs 20 rows (784-128-10, embedded anvil), wall', a: `${round(r1000.wall, 1)} s`, b: `${round(r20.wall, 1)} s`, ratio: round(r1000.wall / r20.wall), goal: 2 },
  { target: '… the same, CPU of ml2sc and its anvil', a: `${round(r1000.cpu, 1)} s`, b: `${round(r20.cpu, 1)} s`, ratio: round(r1000.cpu / r20.cpu), goal: 2 },
]
// the simulator's targets are rates (higher is better): the ratio is target / measured, met at ≤ 1
const rps = (x: number) => `${Math.round(x).toLocaleString('en-US')} rows/s`
const simRows = [
  { target: 'simulator, 784-128-10, batched (rows per CPU second)', a: rps(sim.mlp.batch), b: `${rps(sim.mlp.perRow)} row by row`, ratio: round(5_000 / sim.mlp.batch), goal: 1 },
  { target: 'simulator, MNIST-shaped CNN (cnn_mnist28), batched', a: rps(sim.cnn.batch), b: `${rps(sim.cnn.perRow)} row by row`, ratio: round(200 / sim.cnn.batch), goal: 1 },
]
const machine = `${cpus().length} CPU(s), load average ${loadavg().map((l) => l.toFixed(1)).join(' / ')} at the end`
const json = { date: new Date().toISOString(), machine, help: { cpu: help, nodeCpu: node }, predictOffchain: { rows20: p20, rows2000: p2000 }, run: { rows20: r20, rows1000: r1000 }, simulator: sim, ratios: [...rows, ...simRows].map(({ target, ratio, goal }) => ({ target, ratio, goal, met: ratio <= goal })) }
writeFileSync(path.join(import.meta.dir, 'speed.json'), JSON.stringify(json, null, 2) + '\n')
const md = [
  '# Speed (issue 22): targets as ratios, measured in one run',
  '',
  `\`node_modules/.bin/bun bench/speed.ts\` (${json.date.slice(0, 16).replace('T', ' ')} UTC; ${machine}). The model is a`,
  '784-128-10 ReLU MLP with seeded random weights (bench/speedProject.ts); start-up figures are medians of 5,\n' +
  'predict figures medians of 3 (interleaved).',
  'On a shared machine the wall-clock ratios swing with the load of the moment (each pair is measured one',
  'after the other); the CPU ratios (user + sys of the command and the processes it starts) are the steadier.',
  '',
  '| target | measured | against | ratio | goal | met |',
  '|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.target} | ${r.a} | ${r.b} | ${r.ratio}× | ≤ ${r.goal}× | ${r.ratio <= r.goal ? 'yes' : 'no'} |`),
  '',
  'The simulator: rows per CPU second in one process (user + sys), the batched simulator (simulateBatch: flat',
  'Float64Array rows, exact integer sums below 2^52) against simulate() row by row. Target 5,000 rows/s for',
  '784-128-10 and 200 rows/s for the CNN; the ratio here is target / measured (met at ≤ 1).',
  '',
  '| target | batched | row by row | target / measured | goal | met |',
  '|---|---|---|---|---|---|',
  ...simRows.map((r) => `| ${r.target} | ${r.a} | ${r.b} | ${r.ratio}× | ≤ ${r.goal}× | ${r.ratio <= r.goal ? 'yes' : 'no'} |`),
  '',
]
writeFileSync(path.join(import.meta.dir, 'SPEED.md'), md.join('\n'))
console.log(md.join('\n'))
