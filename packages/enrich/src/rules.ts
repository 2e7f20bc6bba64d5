import { EnrichError } from "./errors.js";

/**
 * Bounded memory of keys: the oldest key goes first once `maxKeys` is reached (a Map iterates in
 * insertion order, which makes it a FIFO at no cost).
 */
class BoundedMap<V> {
  readonly #map = new Map<string, V>();
  constructor(private readonly maxKeys: number) {}
  get(key: string): V | undefined {
    return this.#map.get(key);
  }
  set(key: string, value: V): void {
    if (!this.#map.has(key) && this.#map.size >= this.maxKeys) {
      const oldest = this.#map.keys().next().value;
      if (oldest !== undefined) this.#map.delete(oldest);
    }
    this.#map.set(key, value);
  }
}

export interface UniqueRule {
  /** The rule's name, e.g. `per_link_24h`. */
  name: string;
  /** What makes two clicks "the same": always per visitor (anonymised IP + UA family), plus these. */
  by: ReadonlyArray<"link" | "campaign" | "source">;
  windowSeconds: number;
}

/** The named rules; `per_link_24h` is the default. */
export const UNIQUE_RULES: Readonly<Record<string, UniqueRule>> = {
  per_link_24h: { name: "per_link_24h", by: ["link"], windowSeconds: 86_400 },
  per_link_1h: { name: "per_link_1h", by: ["link"], windowSeconds: 3_600 },
  per_campaign_24h: { name: "per_campaign_24h", by: ["campaign"], windowSeconds: 86_400 },
  per_source_24h: { name: "per_source_24h", by: ["source"], windowSeconds: 86_400 },
};
export const DEFAULT_UNIQUE_RULE = "per_link_24h";
export const DEFAULT_RULE_MAX_KEYS = 1_000_000;

export function uniqueRule(name: string): UniqueRule {
  const rule = UNIQUE_RULES[name];
  if (!rule)
    throw new EnrichError(
      "enrich_config_invalid",
      `unknown uniqueness rule "${name}" — use one of ${Object.keys(UNIQUE_RULES).join(", ")}`,
    );
  return rule;
}

export interface UniqueInput {
  eventKey: string;
  visitor: string | null;
  link: string | null;
  campaign: string | null;
  source: string;
  at: Date;
}

/**
 * `is_unique`: the first event of a visitor for the rule's key within a fixed window (UTC-aligned,
 * so a 24 h rule means "per UTC day"). The window's first event key is remembered, so a redelivered
 * event (a batch handed back after a warehouse failure) is unique again, not demoted by itself.
 * Memory is bounded and not persisted: after a restart a visitor's next event within the window
 * counts as unique once more (README: what holds).
 */
export class UniquenessTracker {
  readonly #firsts: BoundedMap<string>;
  constructor(
    readonly rule: UniqueRule,
    maxKeys = DEFAULT_RULE_MAX_KEYS,
  ) {
    this.#firsts = new BoundedMap(maxKeys);
  }

  /** null when the rule's inputs are missing (no visitor, or no link for a per-link rule). */
  isUnique(input: UniqueInput): boolean | null {
    if (input.visitor === null) return null;
    const parts: string[] = [input.visitor];
    for (const by of this.rule.by) {
      const value = by === "link" ? input.link : by === "campaign" ? input.campaign : input.source;
      if (value === null) return null;
      parts.push(value);
    }
    parts.push(String(Math.floor(input.at.getTime() / (this.rule.windowSeconds * 1000))));
    const key = parts.join("\u0000");
    const first = this.#firsts.get(key);
    if (first === undefined) {
      this.#firsts.set(key, input.eventKey);
      return true;
    }
    return first === input.eventKey;
  }
}

export type SuspicionRule =
  | { rule: "bot" }
  | { rule: "prefetcher" }
  | { rule: "missing_user_agent" }
  | { rule: "missing_ip" }
  | { rule: "country_not_allowed"; countries: readonly string[] }
  | { rule: "burst"; maxPerMinute: number };

/** Rules in order; the first that matches names the reason. */
export const DEFAULT_SUSPICION_RULES: readonly SuspicionRule[] = [
  { rule: "bot" },
  { rule: "missing_user_agent" },
  { rule: "burst", maxPerMinute: 30 },
];

export interface SuspicionInput {
  eventKey: string;
  visitor: string | null;
  userAgent: string | null;
  ip: string | null;
  country: string | null;
  botKind: string | null;
  at: Date;
}

/**
 * `is_suspicious` with the first matching rule as the reason. Only clicks are judged (the caller
 * passes events with a link); `burst` counts a visitor's distinct events per UTC minute.
 */
export class SuspicionRules {
  readonly #bursts: BoundedMap<Set<string>>;
  constructor(
    readonly rules: readonly SuspicionRule[] = DEFAULT_SUSPICION_RULES,
    maxKeys = DEFAULT_RULE_MAX_KEYS,
  ) {
    this.#bursts = new BoundedMap(maxKeys);
    for (const [i, r] of rules.entries()) {
      if (r.rule === "burst" && !(Number.isInteger(r.maxPerMinute) && r.maxPerMinute > 0)) {
        throw new EnrichError(
          "enrich_config_invalid",
          `enrich.suspicious[${i}].maxPerMinute must be a positive integer`,
        );
      }
    }
  }

  judge(input: SuspicionInput): { suspicious: boolean; reason: string | null } {
    for (const r of this.rules) {
      let hit = false;
      switch (r.rule) {
        case "bot":
          hit = input.botKind === "bot";
          break;
        case "prefetcher":
          hit = input.botKind === "prefetcher";
          break;
        case "missing_user_agent":
          hit = input.userAgent === null;
          break;
        case "missing_ip":
          hit = input.ip === null;
          break;
        case "country_not_allowed":
          hit = input.country !== null && !r.countries.includes(input.country);
          break;
        case "burst": {
          if (input.visitor === null) break;
          const key = `${input.visitor}\u0000${Math.floor(input.at.getTime() / 60_000)}`;
          let seen = this.#bursts.get(key);
          if (!seen) {
            seen = new Set();
            this.#bursts.set(key, seen);
          }
          seen.add(input.eventKey);
          hit = seen.size > r.maxPerMinute;
          break;
        }
      }
      if (hit) return { suspicious: true, reason: r.rule };
    }
    return { suspicious: false, reason: null };
  }
}
