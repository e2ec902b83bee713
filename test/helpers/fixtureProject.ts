// A fixture's files copied into a fresh temporary folder, as a newcomer's project (`ml2sc init` there), and
// the numeric rows of a fixture's test.csv.
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

/** A fresh temporary folder holding `files`, copied from the fixture folder `from`. */
export function fixtureProject(from: string, files: string[], prefix = 'ml2sc-project-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix))
  for (const f of files) copyFileSync(path.join(from, f), path.join(dir, f))
  return dir
}

/** The first `features` columns of every row of `<dir>/test.csv` (its header skipped), as numbers. */
export const featureRows = (dir: string, features: number): number[][] =>
  readFileSync(path.join(dir, 'test.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(',').slice(0, features).map(Number))
