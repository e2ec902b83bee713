import type { Target } from './targets.ts'

/** README.md inside a release archive: what is in the folder, and the two commands that try it. */
export function archiveReadme(version: string, t: Target, anvil: { package: string; version: string }, solc: string): string {
  const win = t.exe === '.exe'
  const run = win ? '.\\ml2sc.exe' : './ml2sc'
  const cfg = win ? 'example\\ml2sc.yaml' : 'example/ml2sc.yaml'
  return `# ml2sc ${version} (${t.name})

ml2sc turns a trained PyTorch network into a gas-efficient Solidity contract, deploys it on a local
anvil (or any EVM RPC), uploads the weights, runs inference on chain over a test CSV and reports
accuracy against PyTorch and the gas of every step. This folder needs nothing else installed: no
Node, no bun, no Foundry.

- \`ml2sc${t.exe}\`: the ml2sc binary (solc ${solc} is inside it).
- \`anvil${t.exe}\`: Foundry's anvil ${anvil.version}, from the npm package \`${anvil.package}\`. ml2sc looks
  for anvil in \`ANVIL_BIN\`, then next to itself, then on \`PATH\`.
- \`example/\`: a 30-8-1 breast-cancer classifier trained by PyTorch (\`model.onnx\`), 50 test rows
  (\`test.csv\`) and PyTorch's own outputs for them (\`reference.csv\`).

Try it:

    ${`${run} --version`.padEnd(36)} # ml2sc, solc and anvil versions
    ${`${run} run ${cfg}`.padEnd(36)} # writes ${win ? 'example\\out\\' : 'example/out/'}: report.html, report.json, predictions.csv, …

Your own model: \`${run} init model.onnx --data test.csv\`, then \`${run} run ml2sc.yaml\`.
\`${run} --help\` lists every command, \`${run} <command> --help\` its options.
${t.name.startsWith('darwin') ? '\nmacOS may refuse to start downloaded binaries that are not notarised; then run\n`xattr -d com.apple.quarantine ml2sc anvil` in this folder.\n' : ''}`
}
