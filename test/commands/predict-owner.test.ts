// `predict` with no chain left from a run deploys the model on a fresh embedded anvil and uploads its
// weights there. A model owned by chain.owner (another account than the anvil's) must still answer: the
// scratch copy is deployed as the anvil account's own, and it answers exactly like the simulator.
import { expect, test } from 'bun:test'
import path from 'node:path'
import { predictCommand } from '../../src/commands/predict.ts'
import { randomProject } from '../chain/helpers.ts'
import { quiet } from './helpers.ts'

test('predict on the fly for a model with chain.owner and weights to upload: the same answers as --offchain', async () => {
  const p = randomProject({ sizes: [6, 8, 2], seed: 12, yaml: "weights:\n  layout: storage\nchain:\n  owner: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'\n" })
  const input = path.join(p.dir, 'test.csv')
  const onChain = await predictCommand({ config: p.config, input }, quiet)
  const offChain = await predictCommand({ config: p.config, input, offchain: true }, quiet)
  expect(onChain.rows.length).toBe(20)
  expect(onChain.rows).toEqual(offChain.rows)
})
