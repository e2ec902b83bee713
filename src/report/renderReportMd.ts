import type { Report } from './buildReport.ts'

const n = (x: number | null | undefined) => (x === null || x === undefined ? '–' : x.toLocaleString('en-US'))
const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(1)}%`)

/** The human summary: accuracy on chain vs reference, agreement, and gas per step, per row, per parameter. */
export function renderReportMd(r: Report): string {
  const acc = r.accuracy as Record<string, unknown>
  const isReg = r.model.task === 'regression'
  const mae = acc.mae as { onchain: number | null; reference: number | null } | undefined
  const lines = [
    `# ml2sc report: ${r.contract.name}`,
    '',
    `Model \`${r.model.file}\` (${r.model.format}), ${r.model.tensorLayers ? `${r.model.inputShape!.join('×')} → ${r.model.tensorLayers.map((l) => `${l.kind} ${l.outShape.join('×')}`).join(' → ')} → ` : ''}${r.model.recurrent ? `${r.model.recurrent.steps}×${r.model.recurrent.features} window → ${r.model.recurrent.layers === 2 ? '2-layer ' : ''}${r.model.recurrent.kind.toUpperCase()} ${r.model.recurrent.hidden} → ` : ''}${r.model.shape.join('-')}, ${n(r.model.parameters)} parameters, task: ${r.model.task}.`,
    `Layout \`${r.layout}\`; activations at ${r.precision.scale}, weights int${r.precision.weightBits}, inputs ${r.precision.inputType ?? `int${r.precision.inputBits}`}${r.precision.inputScale ? ` at ${r.precision.inputScale}` : ''}; safe input range [${r.precision.safeInputRange.join(', ')}].` +
      Object.entries(r.precision.activationMaxError ?? {}).map(([k, e]) => ` ${k} within ${e.toExponential(2)} of the float function.`).join(''),
    `Chain ${r.chain.chainId}${r.chain.local ? ' (embedded anvil)' : ''}, hardfork ${r.tools.hardfork}${r.chain.node ? ` (node ${r.chain.node}${r.chain.push0 === false ? ', no PUSH0' : ''})` : ''}; ${r.tools.solc}; ml2sc ${r.ml2sc}.`,
    '',
    '## Accuracy',
    '',
    `Reference: ${r.reference.description}.`,
    '',
    `| | on chain | reference (${r.reference.source === 'pytorch-csv' ? 'PyTorch' : 'ml2sc float'}) |`,
    '|---|---|---|',
    isReg ? `| MAE vs label | ${mae?.onchain ?? '–'} | ${mae?.reference ?? '–'} |` : `| accuracy vs label | ${pct(acc.onchain as number)} | ${pct(acc.reference as number)} |`,
    '',
    `Agreement with the reference: ${pct(acc.agreement as number)} of ${r.rows.answered} rows${isReg ? ' (within 1e-3)' : ' (same class)'}. ` +
      `Largest output error ${r.error.maxAbs}, mean ${r.error.meanAbs}. Simulator vs chain: ${r.simulator.mismatches} mismatches.` +
      (r.rows.refused ? ` ${r.rows.refused} rows refused (outside the safe input range).` : ''),
    '',
    '## Gas',
    '',
    '| step | gas | note |',
    '|---|---|---|',
    `| deploy | ${n(r.gas.deploy)} | ${n(r.contract.runtimeBytes)} bytes of runtime code |`,
    ...(r.gas.adminLibrary ? [`| shared admin library | ${n(r.gas.adminLibrary)} | once per chain: ownership, uploads and getters for every ml2sc model (this chain did not have it yet) |`] : []),
    `| upload weights | ${n(r.gas.upload)} | ${r.gas.uploadTransactions} transaction(s), ${n(r.gas.perParameter.upload)} gas per parameter |`,
    `| inference, ${n(r.gas.inference.rows)} rows | ${n(r.gas.inference.total)} | ${r.gas.inference.transactions} batch ${r.gas.inferenceSource === 'estimate' ? 'call(s) (gas from eth_estimateGas: nothing was sent on this paid chain; `--tx` sends them)' : 'transaction(s)'} of up to ${r.gas.inference.batchRows} rows |`,
    `| **per row** | **${n(r.gas.inference.perRow)}** | base cost and calldata included; ${
      r.gas.ml2scComparable
        ? `ML2SC's 30-4-1 pays 262,243 (${r.gas.ml2scRatio ?? '–'}× more)`
        : `${n(r.gas.perParameter.inference)} gas per parameter (a ${r.model.shape.join('-')} model is not compared with ML2SC's 30-4-1)`
    } |`,
    `| one predict transaction | ${n(r.gas.predictSingle)} | all-in${r.gas.predictSingleSource === 'estimate' ? ', from eth_estimateGas (not sent)' : ''} |`,
    '',
    ...(r.warnings.length ? ['## Warnings', '', ...r.warnings.map((w) => `- ${w}`), ''] : []),
    '## Error per layer',
    '',
    '| layer | max abs error vs ml2sc float |',
    '|---|---|',
    ...(r.error.perTensorLayer ?? []).map((l) => `| ${l.name} | ${l.maxAbs} |`),
    ...r.error.perLayer.map((l) => `| ${l.name} | ${l.maxAbs} |`),
    '',
  ]
  return lines.join('\n')
}
