import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import type { DestinationSpec, TopologyOptions } from "./options.js";
import {
  ensureControlSecrets,
  ensureSecret,
  loadOrCreateCredentials,
  secretFileOf,
  type Credentials,
} from "./state.js";

/** The options resolved once, as every step of startTopology reads them. */
export interface Plan {
  options: TopologyOptions;
  /** Absolute, and created. */
  stateDir: string;
  destinations: readonly DestinationSpec[];
  /** Nodes of the hub: 1, or the cluster size when the hub is clustered. */
  hubSize: number;
  /** Nodes of a region: 1, or the cluster size when that region is clustered. */
  regionSize(region: string): number;
  credentials: Credentials;
  /** The local source's signing secret (made on the first run). */
  secretFile: string;
  /** The control bucket's sealing key and the API's admin token (made on the first run). */
  sealingKeysFile: string;
  apiTokenFile: string;
  /** The enrich stage's hash key (made on the first run). */
  enrichHashKeyFile: string;
  logLevel: string;
  output: "inherit" | "buffer";
}

/** Resolves the options: the state dir, the cluster sizes, the credentials and the signing secret. */
export function planOf(options: TopologyOptions): Plan {
  const stateDir = resolve(options.stateDir);
  mkdirSync(stateDir, { recursive: true });
  const destinations = options.destinations ?? [];
  const clusterSize = options.cluster?.size ?? 1;
  const hubSize = clusterSize > 1 && options.cluster?.hub !== false ? clusterSize : 1;
  const regionSize = (region: string) =>
    clusterSize > 1 && (options.cluster?.regions ?? options.regions).includes(region) ? clusterSize : 1;
  const clustered = [...(hubSize > 1 ? ["hub"] : []), ...options.regions.filter((r) => regionSize(r) > 1)].map(
    (name) => `tributary-${name}`,
  );
  const credentials = loadOrCreateCredentials(stateDir, options.regions, true, clustered);
  const secretFile = secretFileOf(stateDir, options.source);
  ensureSecret(secretFile);
  const { sealingKeysFile, apiTokenFile, enrichHashKeyFile } = ensureControlSecrets(stateDir);
  return {
    sealingKeysFile,
    apiTokenFile,
    enrichHashKeyFile,
    options,
    stateDir,
    destinations,
    hubSize,
    regionSize,
    credentials,
    secretFile,
    logLevel: options.logLevel ?? "info",
    output: options.output ?? "buffer",
  };
}

/** What has started so far: stopped in reverse order when a later step fails. */
export class Started {
  readonly #stops: Array<() => Promise<unknown>> = [];

  add(stop: () => Promise<unknown>): void {
    this.#stops.push(stop);
  }

  async stopAll(): Promise<void> {
    for (const stop of this.#stops.reverse()) await stop().catch(() => undefined);
  }
}
