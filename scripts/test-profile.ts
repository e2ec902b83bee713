// Where each test file's CPU went, from the records of an `ML2SC_PROFILE=<folder> bun scripts/test.ts …` run
// (test/helpers/profile.ts): per file its own CPU, solc compiles (count, distinct inputs, CPU), CLI
// processes (count, CPU, their own compiles), anvils (count, CPU) and other processes.
//   bun scripts/test-profile.ts <folder>
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'

type Rec = { pid: number; ppid: number; argv: string[]; cpu: number; compiles: { key: string; cpu: number }[]; hits: number; spawns: { cmd: string; cpu?: number }[] }
const dir = process.argv[2]
if (!dir) throw new Error('usage: bun scripts/test-profile.ts <folder>')
const recs = readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Rec)
const byPid = new Map(recs.map((r) => [r.pid, r]))
// the solc servers' log (scripts/solc-server.mjs): each compile's CPU, charged to the process that asked
const served = readdirSync(dir).filter((f) => f.startsWith('solc-server-')).flatMap((f) => readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { pid: number; name: string; cpu: number }))
const fileOf = (r: Rec): string | undefined => {
  for (let x: Rec | undefined = r; x; x = byPid.get(x.ppid)) {
    const t = x.argv.find((a) => a.endsWith('.test.ts'))
    if (t) return t.replace(/^\.\//, '')
  }
  return undefined
}
type Row = { file: string; own: number; compiles: number; compileCpu: number; keys: Set<string>; hits: number; cli: number; cliCpu: number; anvil: number; anvilCpu: number; other: number; otherCpu: number; served: number; servedCpu: number; total: number }
const rows = new Map<string, Row>()
const allKeys = new Map<string, number>()
for (const r of recs) {
  const file = fileOf(r)
  if (!file) continue
  const row = rows.get(file) ?? { file, own: 0, compiles: 0, compileCpu: 0, keys: new Set(), hits: 0, cli: 0, cliCpu: 0, anvil: 0, anvilCpu: 0, other: 0, otherCpu: 0, served: 0, servedCpu: 0, total: 0 }
  rows.set(file, row)
  const isTest = r.argv.some((a) => a.endsWith('.test.ts'))
  if (isTest) row.own += r.cpu
  row.compiles += r.compiles.length
  row.compileCpu += r.compiles.reduce((a, c) => a + c.cpu, 0)
  for (const c of served.filter((x) => x.pid === r.pid)) (row.served++, (row.servedCpu += c.cpu))
  for (const c of r.compiles) {
    row.keys.add(c.key)
    allKeys.set(c.key, (allKeys.get(c.key) ?? 0) + 1)
  }
  row.hits += r.hits
  for (const s of r.spawns) {
    if (/^anvil/.test(s.cmd)) (row.anvil++, (row.anvilCpu += s.cpu ?? 0))
    else if (/^(ml2sc|bun|sh) /.test(s.cmd) || s.cmd === 'ml2sc') (row.cli++, (row.cliCpu += s.cpu ?? 0))
    else (row.other++, (row.otherCpu += s.cpu ?? 0))
  }
}
const list = [...rows.values()].map((r) => ({ ...r, total: r.own + r.cliCpu + r.anvilCpu + r.otherCpu + r.servedCpu })).sort((a, b) => b.total - a.total)
const f1 = (n: number) => n.toFixed(1).padStart(6)
console.log('file'.padEnd(48), 'total', ' own(test)', ' solc#', 'dist', ' solcCPU', ' hits', ' cli#', ' cliCPU', ' anvil#', ' anvilCPU', ' other#', ' otherCPU', ' served#', ' servedCPU')
for (const r of list) console.log(r.file.padEnd(48), f1(r.total), f1(r.own), String(r.compiles).padStart(6), String(r.keys.size).padStart(4), f1(r.compileCpu), String(r.hits).padStart(5), String(r.cli).padStart(5), f1(r.cliCpu), String(r.anvil).padStart(6), f1(r.anvilCpu), String(r.other).padStart(6), f1(r.otherCpu), String(r.served).padStart(7), f1(r.servedCpu))
const sum = (k: 'total' | 'own' | 'compileCpu' | 'cliCpu' | 'anvilCpu' | 'otherCpu' | 'compiles' | 'cli' | 'anvil' | 'hits' | 'served' | 'servedCpu') => list.reduce((a, r) => a + r[k], 0)
console.log(`\n${list.length} files: total ${sum('total').toFixed(0)} CPU s; solc ${sum('compiles')} compiles (${allKeys.size} distinct inputs, ${[...allKeys.values()].filter((n) => n > 1).length} compiled more than once) ${sum('compileCpu').toFixed(0)} s (in tests and CLI processes); ${sum('hits')} cache hits; ${sum('cli')} CLI processes ${sum('cliCpu').toFixed(0)} s; ${sum('anvil')} anvils ${sum('anvilCpu').toFixed(0)} s; other processes ${sum('otherCpu').toFixed(0)} s; solc servers ${sum('served')} compiles ${sum('servedCpu').toFixed(0)} s (of ${served.length}, ${served.reduce((a, c) => a + c.cpu, 0).toFixed(0)} s)`)
