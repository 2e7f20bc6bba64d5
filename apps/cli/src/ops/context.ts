import { defineErrors } from "@tributary/errors";
import { existsSync, readFileSync } from "node:fs";
import type { NatsConnection } from "@nats-io/transport-node";
import type { OperatorContext } from "@tributary/local";
import { connectNats, HUB_LOADER_DURABLE } from "@tributary/streams";
import type { ServiceEndpoint } from "./http.js";

/** The context file's shape: @tributary/local writes it for the local system, the CLI reads it. */
export type { OperatorContext };

export const OPERATOR_ERRORS = {
  context_missing: {
    meaning: "No operator context file: the CLI does not know where the deployment is.",
    fix: "Start the local system (`npm start`), or pass `--context <file>` / set TRIBUTARY_CONTEXT.",
  },
  context_invalid: {
    meaning: "The operator context file is not valid JSON of the expected shape.",
    fix: "Correct the field the message names, or recreate it with `tributary up`.",
  },
  unknown_region: { meaning: "The region named is not in the operator context.", fix: "Use one the message lists." },
  not_found: {
    meaning: "The stream message, DLQ entry or destination asked for does not exist.",
    fix: "List first (`dlq`, `destinations`), then ask for what is there.",
  },
  unreachable: {
    meaning: "A service or nats-server of the deployment did not answer.",
    fix: "Check that it runs (`tributary status`, `tributary doctor`) and that the context's URLs are right.",
  },
  bad_argument: {
    meaning: "A command-line argument is missing or malformed (exit code 2).",
    fix: "See the command's --help.",
  },
} as const;

/** What an operator command could not do; the CLI prints the message and exits 1 (2 for bad_argument). */
export class OperatorError extends defineErrors("OperatorError", OPERATOR_ERRORS) {}

export function readContext(file: string): OperatorContext {
  if (!existsSync(file)) {
    throw new OperatorError(
      "context_missing",
      `no operator context at ${file}: start the local system with \`tributary up\` (it writes one), or pass --context FILE for a deployment (see apps/cli/README.md)`,
    );
  }
  let parsed: Partial<OperatorContext>;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8")) as Partial<OperatorContext>;
  } catch (err) {
    throw new OperatorError("context_invalid", `${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  for (const field of ["hub", "regions", "admin", "aggregatorUrl"] as const) {
    if (parsed[field] === undefined)
      throw new OperatorError(
        "context_invalid",
        `${file}: "${field}" is missing (see apps/cli/README.md for the format)`,
      );
  }
  return { durable: HUB_LOADER_DURABLE, ...parsed } as OperatorContext;
}

export function regionOf(
  context: OperatorContext,
  region: string,
): { url: string; gatewayUrl?: string; configFile?: string } {
  const r = context.regions[region];
  if (!r)
    throw new OperatorError(
      "unknown_region",
      `unknown region ${JSON.stringify(region)}: the context knows ${Object.keys(context.regions).join(", ")}`,
    );
  return r;
}

/** Connects as the admin user; fails fast (operators want an answer, not a retry loop). */
export async function connectAdmin(
  context: OperatorContext,
  url: string,
  name = "tributary-cli",
): Promise<NatsConnection> {
  try {
    return await connectNats({ servers: [url], name, user: context.admin.user, pass: context.admin.password });
  } catch (err) {
    throw new OperatorError(
      "unreachable",
      `cannot reach NATS at ${url}: ${(err as Error).message}. Is the system running (\`tributary up\`)?`,
      { cause: err },
    );
  }
}

/** The aggregator's HTTP side (stats, the operator endpoints, the delivery log). */
export function aggregatorEndpoint(context: OperatorContext): ServiceEndpoint {
  return {
    what: "the aggregator",
    baseUrl: context.aggregatorUrl,
    token: context.aggregatorToken,
    tokenField: "aggregatorToken",
    notServedHint: "upgrade it, or its warehouse does not offer this (reconcile, the delivery log)",
  };
}

/** The delivery process's stats and admin API; an error when the context knows none. */
export function deliveryEndpoint(context: OperatorContext): ServiceEndpoint {
  if (!context.deliveryUrl) {
    throw new OperatorError(
      "context_invalid",
      'the context names no delivery process: start `tributary up --destinations FILE`, or add "deliveryUrl" (and "deliveryToken") to the context file',
    );
  }
  return {
    what: "the delivery process",
    baseUrl: context.deliveryUrl,
    token: context.deliveryToken,
    tokenField: "deliveryToken",
  };
}
