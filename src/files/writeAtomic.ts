import { mkdir, rename, writeFile } from 'node:fs/promises'
import path from 'node:path'

/** Write a file whole or not at all: a temp file renamed into place, so nothing half-written is left. */
export async function writeAtomic(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true })
  const tmp = `${file}.tmp-${process.pid}`
  await writeFile(tmp, text)
  await rename(tmp, file)
}
