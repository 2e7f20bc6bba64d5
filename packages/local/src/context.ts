import { writeFileSync } from "node:fs";

/**
 * The operator context: where a deployment's parts are, for the `tributary` operator commands (NATS
 * URLs of the hub and of each region, an admin user that may read and, for replay and DLQ work,
 * write the streams, and the aggregator's HTTP address). startTopology writes one for the local
 * system (`<stateDir>/context.json`); for a deployment, an operator writes one by hand (mode 0600:
 * it holds a password). The CLI reads it.
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
  /** The management and query API's address (default: aggregatorUrl, which serves it on DuckDB). */
  apiUrl?: string;
  /** A bearer token of that API (an admin token for the local system). */
  apiToken?: string;
  /** The aggregator's durable consumer on the hub stream. */
  durable: string;
}

/** Writes a context file (mode 0600: it holds the admin password). */
export function writeContext(file: string, context: OperatorContext): void {
  writeFileSync(file, JSON.stringify(context, null, 2), { mode: 0o600 });
}
