#!/usr/bin/env bun
// Prints the config reference (a Markdown table generated from schemas/ml2sc.schema.json).
import { configReference } from '../src/config/configReference.ts'

process.stdout.write(configReference())
