import type { Ml2scCommand } from './context.ts'

/**
 * A subcommand as `--help` lists it; `load` imports its wiring and handler (and so its dependencies:
 * solc, viem, the model readers) only when it runs: `ml2sc --help` loads none of them.
 */
export type CommandEntry = { command: string; describe: string; load: () => Promise<Ml2scCommand> }

/** Every subcommand, in the order `--help` lists them. Add a command: write its module, list it here. */
export const commands: CommandEntry[] = [
  {
    command: 'init <model>',
    describe: 'Scaffold ml2sc.yaml from a model file (and a test CSV), guessing the architecture and the label column',
    load: async () => (await import('./init.ts')).initModule,
  },
  {
    command: 'inspect <target>',
    describe: 'Show a model as ml2sc reads it: format, layers, shapes, activations, parameters (a config adds the fixed-point plan)',
    load: async () => (await import('./inspect.ts')).inspectModule,
  },
  {
    command: 'run <config>',
    describe: 'The whole pipeline: compile, deploy (embedded anvil by default), upload, evaluate on chain, report',
    load: async () => (await import('./runCommandModule.ts')).runModule,
  },
  {
    command: 'generate <config>',
    describe: 'Stage 1: model → fixed-point plan → <Contract>.sol, <Contract>Client.sol (call it from a contract in 1e18 units) and plan.json (no chain, no compiler)',
    load: async () => (await import('./generate.ts')).generateModule,
  },
  {
    command: 'compile <config>',
    describe: 'Stage 2: the generated .sol → <Contract>.json (abi, bytecode, solc and EVM versions) and <Contract>.input.json (solc standard JSON, for block explorers); needs `generate`',
    load: async () => (await import('./compile.ts')).compileModule,
  },
  {
    command: 'deploy <config>',
    describe: 'Stage 3: deploy the compiled contract → deployment.json; needs `compile`. The embedded anvil starts a fresh chain, kept in <out>/anvil-state.json',
    load: async () => (await import('./deploy.ts')).deployModule,
  },
  {
    command: 'upload <config>',
    describe: 'Stage 4: write the weights to the deployed contract (resumes an interrupted upload); needs `deploy`',
    load: async () => (await import('./upload.ts')).uploadModule,
  },
  {
    command: 'evaluate <config>',
    describe: 'Stage 5: answer every row of data.test on chain in batch transactions → evaluation.json; needs `upload`',
    load: async () => (await import('./evaluate.ts')).evaluateModule,
  },
  {
    command: 'report <config>',
    describe: 'Stage 6: evaluation.json + model → report.json, report.md, predictions.csv (no chain); needs `evaluate`',
    load: async () => (await import('./report.ts')).reportModule,
  },
  {
    command: 'predict <config>',
    describe: 'Answer the rows of a CSV with the deployed model (or --offchain with the bit-exact simulator)',
    load: async () => (await import('./predict.ts')).predictModule,
  },
  {
    command: 'verify <config>',
    describe: "Check that a deployed contract is this config's model: its code, its admin library, everything its predict reads (balance, storage, address table, data contracts) and the chain's commitment (exit 0), or say what differs (exit 1). Read-only: no key, no transaction",
    load: async () => (await import('./verify.ts')).verifyModule,
  },
  {
    command: 'update <config>',
    describe: "Upload the config's current model weights to the deployed contract (owner only): the version bumps and ModelUpdated is emitted",
    load: async () => (await import('./update.ts')).updateModule,
  },
  {
    command: 'gas <config>',
    describe: "The gas of every step, from the receipts of run's own transactions on a private throwaway anvil (no RPC, no key)",
    load: async () => (await import('./gas.ts')).gasModule,
  },
  {
    command: 'schema',
    describe: "Print the config's JSON Schema (ml2sc.yaml), for editors and validators",
    load: async () => (await import('./schema.ts')).schemaModule,
  },
]
