import { join } from "node:path";
import type { Command } from "commander";
import { readContext, type OperatorContext } from "./ops/context.js";

/** The options every command takes (declared on the program in main.ts). */
export interface Globals {
  stateDir: string;
  context?: string;
  json?: boolean;
}

/** What the commands read from the program's global options: the state dir, the context, `--json`. */
export interface Cli {
  globals(): Globals;
  /** The deployment to operate on: `--context`, or `<state-dir>/context.json` (written by `up`). */
  context(): OperatorContext;
  /** `data` as JSON with `--json`, else the text `human` renders. */
  print(data: unknown, human: () => string): void;
}

export function cliOf(program: Command): Cli {
  const globals = () => program.opts<Globals>();
  return {
    globals,
    context: () => readContext(globals().context ?? join(globals().stateDir, "context.json")),
    print: (data, human) => console.log(globals().json ? JSON.stringify(data, null, 2) : human()),
  };
}
