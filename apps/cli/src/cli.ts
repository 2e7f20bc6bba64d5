import { join } from "node:path";
import type { Command } from "commander";
import { ManagementApi, managementEndpoint } from "./ops/api.js";
import { readContext, type OperatorContext } from "./ops/context.js";

/** The options every command takes (declared on the program in main.ts). */
export interface Globals {
  stateDir: string;
  context?: string;
  json?: boolean;
  /** The management API's address and token (else TRIBUTARY_API_URL / TRIBUTARY_API_TOKEN, else the context). */
  apiUrl?: string;
  apiToken?: string;
}

/** What the commands read from the program's global options: the state dir, the context, `--json`. */
export interface Cli {
  globals(): Globals;
  /** The deployment to operate on: `--context`, or `<state-dir>/context.json` (written by `up`). */
  context(): OperatorContext;
  /** The management API (sources, subscriptions): `--api-url`/`--api-token`, else env, else the context. */
  api(): ManagementApi;
  /** `data` as JSON with `--json`, else the text `human` renders. */
  print(data: unknown, human: () => string): void;
}

export function cliOf(program: Command): Cli {
  const globals = () => program.opts<Globals>();
  const contextFile = () => globals().context ?? join(globals().stateDir, "context.json");
  return {
    globals,
    context: () => readContext(contextFile()),
    api: () => {
      const { apiUrl, apiToken } = globals();
      return new ManagementApi(
        managementEndpoint(
          { ...(apiUrl ? { url: apiUrl } : {}), ...(apiToken ? { token: apiToken } : {}) },
          contextFile,
        ),
      );
    },
    print: (data, human) => console.log(globals().json ? JSON.stringify(data, null, 2) : human()),
  };
}
