import { createHmac } from "node:crypto";
import ipaddr from "ipaddr.js";
import { EnrichError } from "./errors.js";
import { splitPath } from "./paths.js";

export type IpMode = "truncate" | "hash" | "drop";

export interface IpPrivacyOptions {
  /** truncate (default): IPv4 /24, IPv6 /48. hash: keyed HMAC with a rotating salt. drop: NULL. */
  mode: IpMode;
  /** The HMAC key (at least 16 bytes) for `hash` mode and for hashed redactions. */
  hashKey?: string | Buffer | undefined;
  /** How long one salt lives; the same IP hashes alike only within one period. Default 1 day. */
  saltRotationSeconds?: number;
}

export const DEFAULT_SALT_ROTATION_SECONDS = 86_400;
const MIN_KEY_BYTES = 16;

/**
 * A keyed hash whose salt rotates: salt = HMAC(key, period number), hash = HMAC(salt, value). Within
 * one period equal values give equal hashes (counting distinct visitors works); across periods they
 * cannot be linked, and without the key no one can test a guessed IP (the IPv4 space is small
 * enough to hash exhaustively, so an unkeyed hash would be no protection).
 */
export class RotatingHasher {
  readonly #key: Buffer;
  readonly #rotationMs: number;
  #period = -1;
  #salt: Buffer = Buffer.alloc(0);

  constructor(key: string | Buffer, rotationSeconds = DEFAULT_SALT_ROTATION_SECONDS) {
    this.#key = typeof key === "string" ? Buffer.from(key, "utf8") : key;
    if (this.#key.length < MIN_KEY_BYTES) {
      throw new EnrichError(
        "enrich_config_invalid",
        `the hash key has ${this.#key.length} bytes; it needs at least ${MIN_KEY_BYTES} (e.g. openssl rand -hex 32)`,
      );
    }
    if (!(rotationSeconds > 0))
      throw new EnrichError("enrich_config_invalid", `saltRotationSeconds must be positive, got ${rotationSeconds}`);
    this.#rotationMs = rotationSeconds * 1000;
  }

  hash(value: string, at: Date): string {
    const period = Math.floor(at.getTime() / this.#rotationMs);
    if (period !== this.#period) {
      this.#salt = this.#saltOf(period);
      this.#period = period;
    }
    return hashUnder(this.#salt, value);
  }

  /**
   * The value's hash in every salt period from `from` to `to`: what finds one value's rows again
   * (erasure) though each period hashed it differently. Refuses more than MAX_PERIODS periods.
   */
  hashesBetween(value: string, from: Date, to: Date): string[] {
    const first = Math.floor(from.getTime() / this.#rotationMs);
    const last = Math.floor(to.getTime() / this.#rotationMs);
    if (last - first + 1 > MAX_PERIODS)
      throw new EnrichError(
        "enrich_range_too_long",
        `${last - first + 1} salt periods from ${from.toISOString()} to ${to.toISOString()}; at most ${MAX_PERIODS}`,
      );
    const out: string[] = [];
    for (let period = first; period <= last; period++) out.push(hashUnder(this.#saltOf(period), value));
    return out;
  }

  #saltOf(period: number): Buffer {
    return createHmac("sha256", this.#key).update(`salt:${period}`).digest();
  }
}

/** Salt periods one hashesBetween call covers at most (ten years of daily salts). */
export const MAX_PERIODS = 3660;

function hashUnder(salt: Buffer, value: string): string {
  return `h_${createHmac("sha256", salt).update(value).digest("base64url").slice(0, 22)}`;
}

/** IPv4 keeps its /24, IPv6 its /48 (the common analytics truncation, e.g. Google Analytics' IP anonymization). */
export function truncateIp(ip: string): string | null {
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.process(ip.trim()); // maps ::ffff:1.2.3.4 to IPv4
  } catch {
    return null;
  }
  if (addr.kind() === "ipv4") {
    const bytes = addr.toByteArray();
    return `${bytes[0]}.${bytes[1]}.${bytes[2]}.0`;
  }
  const parts = (addr as ipaddr.IPv6).parts.slice(0, 3).concat([0, 0, 0, 0, 0]);
  return new ipaddr.IPv6(parts).toString();
}

/** The normalised text of an IP (IPv4-mapped IPv6 as IPv4), or null when it is not an IP. */
export function normalizeIp(ip: string): string | null {
  try {
    return ipaddr.process(ip.trim()).toString();
  } catch {
    return null;
  }
}

export function anonymizeIp(
  ip: string | null,
  mode: IpMode,
  hasher: RotatingHasher | undefined,
  at: Date,
): string | null {
  if (ip === null || mode === "drop") return null;
  const normal = normalizeIp(ip);
  if (normal === null) return null;
  if (mode === "truncate") return truncateIp(normal);
  if (!hasher) throw new EnrichError("enrich_config_invalid", "ip mode hash needs a hash key");
  return hasher.hash(normal, at);
}

export interface RedactionRule {
  /** Dotted path in the body, e.g. `data.ip` or `data.click.user_agent`. */
  path: string;
  action: "drop" | "hash";
}

export interface CompiledRedaction {
  path: readonly string[];
  action: "drop" | "hash";
}

export function compileRedactions(
  rules: readonly RedactionRule[],
  hasher: RotatingHasher | undefined,
  where: string,
): CompiledRedaction[] {
  return rules.map((rule, i) => {
    const path = splitPath(rule.path);
    if (path.length === 0)
      throw new EnrichError("enrich_config_invalid", `${where}[${i}].path is empty — name a field such as data.ip`);
    if (rule.action === "hash" && !hasher)
      throw new EnrichError(
        "enrich_config_invalid",
        `${where}[${i}] hashes ${rule.path} but no hash key is set — set enrich.hashKeyEnv or use action "drop"`,
      );
    return { path, action: rule.action };
  });
}

/**
 * Applies the redactions to the parsed body in place; true when something changed (then the row's
 * payload is re-serialised; otherwise it stays byte for byte as received).
 */
export function redact(
  body: unknown,
  rules: readonly CompiledRedaction[],
  hasher: RotatingHasher | undefined,
  at: Date,
): boolean {
  let changed = false;
  for (const rule of rules) {
    let parent: unknown = body;
    for (const segment of rule.path.slice(0, -1)) {
      parent = parent !== null && typeof parent === "object" ? (parent as Record<string, unknown>)[segment] : undefined;
    }
    if (parent === null || typeof parent !== "object") continue;
    const record = parent as Record<string, unknown>;
    const leaf = rule.path[rule.path.length - 1]!;
    if (!Object.hasOwn(record, leaf)) continue;
    if (rule.action === "drop") delete record[leaf];
    else {
      const value = record[leaf];
      record[leaf] = hasher!.hash(typeof value === "string" ? value : JSON.stringify(value), at);
    }
    changed = true;
  }
  return changed;
}
