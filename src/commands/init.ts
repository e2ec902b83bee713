import path from 'node:path'
import { parameterCount, shapeOf } from '../ir/taskOf.ts'
import { initConfig } from '../scaffold/initConfig.ts'
import type { Ml2scCommand } from './context.ts'

export const initModule: Ml2scCommand = {
  builder: (y) =>
    y
      .positional('model', { type: 'string', demandOption: true, describe: 'the model: .onnx, .pt/.pth, .safetensors or .json' })
      .option('data', { type: 'string', describe: 'the test CSV (default: test.csv beside the model, if any)' })
      .option('config', { type: 'string', describe: 'the config file to write', default: 'ml2sc.yaml' })
      .option('force', { type: 'boolean', default: false, describe: 'overwrite an existing config' })
      .example('$0 init model.pt --data test.csv', 'write ./ml2sc.yaml, then `ml2sc run ml2sc.yaml`')
      .example('$0 init weights.safetensors --config exp/ml2sc.yaml --out exp/out', 'another config file and output folder')
      .example('$0 init model.onnx --force', 'replace an existing ml2sc.yaml'),
  handler: async (a, log) => {
    const r = await initConfig({ model: a.model, data: a.data, config: a.config, out: a.out, force: a.force })
    const ir = r.architecture.ir
    const shown = path.relative(process.cwd(), r.file) || r.file
    log.step(`model ${a.model}: ${r.architecture.format}, ${shapeOf(ir).join(' → ')}, ${parameterCount(ir).toLocaleString('en-US')} parameters; ${r.architecture.note}`)
    if (r.data)
      log.step(
        `data ${path.relative(process.cwd(), r.data.file)}: ${r.data.labels ? `labels ${r.data.labels.join(', ')} (a column per output${r.data.labelsHow === 'last' ? ': the last columns' : ''})` : `label '${r.data.label}' (${r.data.labelHow === 'name' ? 'by its name' : r.data.labelHow === 'values' ? "its values are the model's classes" : 'the last column'})`}${r.data.drop.length ? `, drop ${r.data.drop.join(', ')}` : ''}, ${r.data.features} features${r.data.task ? `, looks ${r.data.task}` : ''}`,
      )
    else log.step('no test CSV found: add data.test to the config before `ml2sc run`')
    if (r.reference) log.step(`reference ${path.relative(process.cwd(), r.reference)}: PyTorch's outputs, written as data.reference`)
    for (const w of r.warnings) log.info(`  warning: ${w}`)
    log.step(`wrote ${shown}: check the GUESSED and CHECK lines, then \`ml2sc run ${shown}\``)
    return {
      file: r.file,
      architecture: { how: r.architecture.how, format: r.architecture.format, layers: r.architecture.layers, source: r.architecture.source, class: r.architecture.class, shape: shapeOf(ir) },
      data: r.data ? { file: r.data.file, label: r.data.label, labelHow: r.data.labelHow, drop: r.data.drop, features: r.data.features, task: r.data.task } : null,
      reference: r.reference ?? null,
      warnings: r.warnings,
    }
  },
}
