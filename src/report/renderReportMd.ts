import type { Report } from './buildReport.ts'
import { ADMIN_LIBRARY_NOTE, uploadNote } from './gasNotes.ts'
import { headsMarkdown } from './headsSection.ts'

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
    `Model \`${r.model.file}\` (${r.model.format}), ${r.model.tensorLayers ? `${r.model.inputShape!.join('×')} → ${r.model.tensorLayers.map((l) => `${l.kind} ${l.outShape.join('×')}`).join(' → ')} → ` : ''}${r.model.recurrent ? `${r.model.recurrent.steps}×${r.model.recurrent.features} window → ${r.model.recurrent.layers === 2 ? '2-layer ' : ''}${r.model.recurrent.directions === 2 ? 'bidirectional ' : ''}${r.model.recurrent.kind.toUpperCase()} ${r.model.recurrent.hidden} → ` : ''}${r.model.attention ? `${r.model.attention.tokens}×${r.model.attention.embed} window → self-attention (${r.model.attention.heads} head${r.model.attention.heads > 1 ? 's' : ''}, ${r.model.attention.pool} pooling) → ` : ''}${r.model.shape.join('-')}, ${n(r.model.parameters)} parameters, task: ${r.model.task}.`,
    `Layout \`${r.layout}\`${r.forwarding ? ' (a forwarding model: the weights in the code; an update installs a kernel contract)' : ''}; activations at ${r.precision.scale}, weights int${r.precision.weightBits}, inputs ${r.precision.inputType ?? `int${r.precision.inputBits}`}${r.precision.inputScale ? ` at ${r.precision.inputScale}` : ''}; safe input range [${r.precision.safeInputRange.join(', ')}].` +
      Object.entries(r.precision.activationMaxError ?? {}).map(([k, e]) => ` ${k} within ${e.toExponential(2)} of the float function.`).join('') +
      (r.model.architecture?.at(-1)?.activation === 'log_softmax' ? ' The outputs are log-probabilities (LogSoftmax: z − max − ln Σ e^(z − max), at the activation scale); the class is their argmax, the same as the logits\'.' : ''),
    `Chain ${r.chain.chainId}${r.chain.embedded ? ' (embedded anvil)' : r.chain.local ? ' (a development node on this machine)' : ''}, hardfork ${r.tools.hardfork}${r.chain.node ? ` (node ${r.chain.node}${r.chain.push0 === false ? ', no PUSH0' : ''})` : ''}; ${r.tools.solc}; ml2sc ${r.ml2sc}.`,
    '',
    '## Accuracy',
    '',
    `Reference: ${r.reference.description}.`,
    '',
    `| | on chain | reference (${r.reference.source === 'pytorch-csv' ? 'PyTorch' : 'ml2sc float'}) |`,
    '|---|---|---|',
    isReg ? `| MAE vs label | ${mae?.onchain ?? '–'} | ${mae?.reference ?? '–'} |` : `| accuracy vs label | ${pct(acc.onchain as number)} | ${pct(acc.reference as number)} |`,
    '',
    ...(r.model.guessed ? ['**Architecture GUESSED**: `ml2sc init` guessed `model.layers` from the tensor shapes (no `nn.Module` source beside the model); `model.guessed: true` in the config.', ''] : []),
    calibrationLine(r),
    '',
    `Agreement with the reference: ${pct(acc.agreement as number)} of ${r.accuracy.rows.count} rows${isReg ? ' (within 1e-3)' : ' (same class)'}. ` +
      `Largest output error ${r.error.maxAbs}, mean ${r.error.meanAbs}. Simulator vs chain: ${r.simulator.mismatches} mismatches.` +
      (r.rows.refused ? ` ${r.rows.refused} rows refused (outside the safe input range).` : ''),
    '',
    fidelityLine(r),
    '',
    ...headsMarkdown(r),
    '## Gas',
    '',
    '| step | gas | note |',
    '|---|---|---|',
    `| deploy | ${n(r.gas.deploy)} | ${n(r.contract.runtimeBytes)} bytes of runtime code |`,
    ...(r.gas.adminLibrary ? [`| shared admin library | ${n(r.gas.adminLibrary)} | ${ADMIN_LIBRARY_NOTE} |`] : []),
    `| upload weights | ${n(r.gas.upload)} | ${uploadNote(r)} |`,
    `| inference, ${n(r.gas.inference.rows)} rows | ${n(r.gas.inference.total)} | ${r.gas.inference.transactions} batch ${r.gas.inferenceSource === 'estimate' ? 'call(s) (gas from eth_estimateGas: nothing was sent on this paid chain; `--tx` sends them)' : 'transaction(s)'} of up to ${r.gas.inference.batchRows} rows |`,
    `| **per row** | **${n(r.gas.inference.perRow)}** | base cost and calldata included; ${
      r.gas.ml2scComparable
        ? `ML2SC's 30-4-1 pays 262,243 (${r.gas.ml2scRatio ?? '–'}× more)`
        : `${n(r.gas.perParameter.inference)} gas per parameter (a ${r.model.shape.join('-')} model is not compared with ML2SC's 30-4-1)`
    } |`,
    `| one predict transaction | ${n(r.gas.predictSingle)} | all-in${r.gas.predictSingleSource === 'estimate' ? ', from eth_estimateGas (not sent)' : ''} |`,
    ...(r.gas.perTimeStep ? [`| … per time step | ${n(r.gas.perTimeStep)} | (one predict − 21,000) / ${r.model.recurrent!.steps} steps, calldata and head included |`] : []),
    ...(r.gas.predictInternal === null
      ? []
      : [
          `| predict from another contract | ${n(r.gas.predictInternal)} | the call, cold account access included; no 21,000 base, no calldata (measured on chain) |`,
          `| … through ${r.contract.name}Client (1e18) | ${n(r.gas.predictInternalClient)} | range check and conversion: ${r.gas.clientPerFeature} gas per feature |`,
        ]),
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

/** Which rows `precision: auto` chose on, and which rows the accuracy figures are over. */
export function calibrationLine(r: Report): string {
  const c = r.precision.calibration
  if (!c) return `Precision: no width was chosen on rows (${r.precision.weightBits}-bit weights); accuracy, agreement and error are over all ${r.accuracy.rows.count} answered rows.`
  if (c.source === 'data.calibration') return `Precision: \`auto\` chose the widths on ${n(c.count)} rows of \`data.calibration\` (${c.file}); accuracy, agreement and error are over all ${r.accuracy.rows.count} answered test rows.`
  return `Precision: \`auto\` chose the widths on calibration rows ${c.first}–${c.last} (the first ${n(c.count)} test rows); accuracy, agreement and error are over the other ${r.accuracy.rows.count} answered rows.`
}

/** The fidelity gate: the worst output against its tolerance. */
export function fidelityLine(r: Report): string {
  const f = r.fidelity
  if (!f.worst) return 'Fidelity: no row answered.'
  const against = f.enforced ? "PyTorch's outputs" : "ml2sc's float pass (not enforced: no data.reference)"
  return `Fidelity (every answered row vs ${against}, precision.tolerance ${f.tolerance}): **${f.within ? 'within' : 'BEYOND'}**; worst row ${f.worst.row}, output ${f.worst.output}: ${f.worst.onchain} on chain vs ${f.worst.reference}, off by ${f.worst.deviation} (tolerance ${f.worst.tolerance}).`
}
