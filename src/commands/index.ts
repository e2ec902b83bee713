import type { Ml2scCommand } from './context.ts'
import { runModule } from './runCommandModule.ts'
import { initModule } from './init.ts'
import { inspectModule } from './inspect.ts'
import { generateModule } from './generate.ts'
import { compileModule } from './compile.ts'
import { deployModule } from './deploy.ts'
import { uploadModule } from './upload.ts'
import { evaluateModule } from './evaluate.ts'
import { reportModule } from './report.ts'
import { gasModule } from './gas.ts'
import { predictModule } from './predict.ts'
import { updateModule } from './update.ts'
import { verifyModule } from './verify.ts'
import { schemaModule } from './schema.ts'

/** Every subcommand, in the order `--help` lists them. Add a command: write its module, list it here. */
export const commands: Ml2scCommand[] = [initModule, inspectModule, runModule, generateModule, compileModule, deployModule, uploadModule, evaluateModule, reportModule, predictModule, verifyModule, updateModule, gasModule, schemaModule]
