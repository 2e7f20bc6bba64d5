import { existsSync, readFileSync, writeFileSync } from "node:fs";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectNats } from "@tributary/streams";
import type { ServiceEndpoint } from "./http.js";

/**
 * Where a deployment's parts are, for the operator commands: NATS URLs of the hub and of each
 * region, an admin user that may read (and, for replay and DLQ work, write) the streams, and the
 * aggregator's HTTP address. `tributary up` writes one for the local system
 * (`.tributary/context.json`); for a deployment, write one by hand (mode 0600: it holds a password).
 */
export interface OperatorContext {
  hub: { url: string };
  regions: Record<string, { url: string; gatewayUrl?: string; configFile?: string }>;
  /** The hub's nats-server config, when known (doctor reads `sync_interval` and domains from it). */
  hubConfigFile?: string;
  admin: { user: string; password: string };
  aggregatorUrl: string;
  /** The aggregator's operator token (its `operatorToken`), when it is not reached over loopback. */
  aggregatorToken?: string;
  /** The delivery process's stats/admin address (apps/delivery), when one runs. */
  deliveryUrl?: string;
  /** Its admin token (`adminToken`), when it is not reached over loopback. */
  deliveryToken?: string;
  /** The aggregator's durable consumer on the hub stream. */
  durable: string;
}

export class OperatorError extends Error {
  constructor(
    readonly code:
      "context_missing" | "context_invalid" | "unknown_region" | "not_found" | "unreachable" | "bad_argument",
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "OperatorError";
  }
}

export function writeContext(file: string, context: OperatorContext): void {
  writeFileSync(file, JSON.stringify(context, null, 2), { mode: 0o600 });
}

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
  return { durable: "warehouse-loader", ...parsed } as OperatorContext;
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
