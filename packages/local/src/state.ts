import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { UserCredential } from "@tributary/streams";

/** What the state dir keeps across runs: a password per NATS user (`credentials.json`, mode 0600). */
export interface Credentials {
  admin: UserCredential;
  aggregator: UserCredential;
  /** Made when a delivery process first runs in this state dir. */
  delivery?: UserCredential;
  gateways: Record<string, UserCredential>;
  leafs: Record<string, UserCredential>;
  /** The management API's hub user. */
  control?: UserCredential;
  /** Route users of the clusters, by cluster name (`tributary-us`, `tributary-hub`); made when one first runs. */
  routes?: Record<string, UserCredential>;
}

function password(): string {
  return randomBytes(18).toString("base64url");
}

/** Random credentials per user, made once per state dir and kept there (mode 0600). */
export function loadOrCreateCredentials(
  stateDir: string,
  regions: readonly string[],
  withDelivery: boolean,
  clusters: readonly string[],
): Credentials {
  const file = join(stateDir, "credentials.json");
  let creds: Credentials | undefined;
  if (existsSync(file)) creds = JSON.parse(readFileSync(file, "utf8")) as Credentials;
  creds ??= {
    admin: { user: "admin", password: password() },
    aggregator: { user: "aggregator", password: password() },
    gateways: {},
    leafs: {},
  };
  if (withDelivery) creds.delivery ??= { user: "delivery", password: password() };
  creds.control ??= { user: "control", password: password() };
  for (const region of regions) {
    creds.gateways[region] ??= { user: `gateway-${region}`, password: password() };
    creds.leafs[region] ??= { user: `leaf-${region}`, password: password() };
  }
  if (clusters.length > 0) creds.routes ??= {};
  for (const cluster of clusters) creds.routes![cluster] ??= { user: "route", password: password() };
  writeFileSync(file, JSON.stringify(creds, null, 2), { mode: 0o600 });
  return creds;
}

/** A source's signing secret: 32 random bytes as hex, made once (mode 0600). */
export function ensureSecret(file: string): void {
  if (existsSync(file)) return;
  mkdirSync(join(file, ".."), { recursive: true, mode: 0o700 });
  writeFileSync(file, randomBytes(32).toString("hex") + "\n", { mode: 0o600 });
}

/** Where the local system keeps a source's signing secret: `<stateDir>/secrets/<source>.secret`. */
export function secretFileOf(stateDir: string, source: string): string {
  return join(resolve(stateDir), "secrets", `${source}.secret`);
}

export function readSecret(file: string): string {
  return readFileSync(file, "utf8").trim();
}

/**
 * The control plane's local secrets, made once (mode 0600): the sealing key of secret values in the
 * control bucket (`local:<32 random bytes, base64>`), an admin token of the API, and the enrich
 * stage's hash key (visitor hashes, which erasure of one visitor finds their rows by).
 */
export function ensureControlSecrets(stateDir: string): {
  sealingKeysFile: string;
  apiTokenFile: string;
  enrichHashKeyFile: string;
} {
  const dir = join(resolve(stateDir), "secrets");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const sealingKeysFile = join(dir, "sealing-keys");
  const apiTokenFile = join(dir, "api-token");
  if (!existsSync(sealingKeysFile))
    writeFileSync(sealingKeysFile, `local:${randomBytes(32).toString("base64")}\n`, { mode: 0o600 });
  if (!existsSync(apiTokenFile)) writeFileSync(apiTokenFile, randomBytes(24).toString("hex") + "\n", { mode: 0o600 });
  const enrichHashKeyFile = join(dir, "enrich-hash-key");
  if (!existsSync(enrichHashKeyFile))
    writeFileSync(enrichHashKeyFile, randomBytes(32).toString("hex") + "\n", { mode: 0o600 });
  return { sealingKeysFile, apiTokenFile, enrichHashKeyFile };
}
