import type { Ml2scCommand } from './context.ts'
import { runModule } from './runCommandModule.ts'

/** Every subcommand, in the order `--help` lists them. Add a command: write its module, list it here. */
export const commands: Ml2scCommand[] = [runModule]
