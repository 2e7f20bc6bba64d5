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
    return this.isFirst(this.keyOf(input), input.eventKey);
  }

  /** What makes two clicks the same under the rule, with the window (null when an input is missing): no state. */
  keyOf(input: Omit<UniqueInput, "eventKey">): string | null {
    if (input.visitor === null) return null;
    const parts: string[] = [input.visitor];
    for (const by of this.rule.by) {
      const value = by === "link" ? input.link : by === "campaign" ? input.campaign : input.source;
      if (value === null) return null;
      parts.push(value);
    }
    parts.push(String(Math.floor(input.at.getTime() / (this.rule.windowSeconds * 1000))));
    return parts.join("\u0000");
  }

  /** The stateful half: whether the event is the key's first (or is that first again, redelivered). */
  isFirst(key: string | null, eventKey: string): boolean | null {
    if (key === null) return null;
    const first = this.#firsts.get(key);
    if (first === undefined) {
      this.#firsts.set(key, eventKey);
      return true;
    }
    return first === eventKey;
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

export interface SuspicionVerdict {
  suspicious: boolean;
  reason: string | null;
}

/** What `settle` needs of an event, made by `prejudge` where the event was parsed (any thread). */
export interface PendingSuspicion {
  /** Index of the first rule other than `burst` that matches; the rule count when none does. */
  firstHit: number;
  /** Visitor and UTC minute; null without a visitor. */
  burstKey: string | null;
}

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

  judge(input: SuspicionInput): SuspicionVerdict {
    return this.settle(input.eventKey, this.prejudge(input));
  }

  /**
   * The half of `judge` that needs no state, wherever the event is parsed: the first rule other
   * than `burst` that matches, and the burst key (visitor and minute; null without a visitor).
   */
  prejudge(input: Omit<SuspicionInput, "eventKey">): PendingSuspicion {
    let firstHit = this.rules.length;
    for (const [i, r] of this.rules.entries()) {
      if (r.rule !== "burst" && this.#statelessHit(r, input)) {
        firstHit = i;
        break;
      }
    }
    const burstKey = input.visitor === null ? null : `${input.visitor}\u0000${Math.floor(input.at.getTime() / 60_000)}`;
    return { firstHit, burstKey };
  }

  /**
   * The stateful half, on one thread in stream order: the burst rules before the first stateless
   * hit count the event in its visitor's minute, and the first rule that matches names the reason —
   * the same verdict, and the same counts, as `judge` in one pass.
   */
  settle(eventKey: string, pending: PendingSuspicion): SuspicionVerdict {
    for (let i = 0; i < pending.firstHit; i++) {
      const r = this.rules[i]!;
      if (r.rule !== "burst" || pending.burstKey === null) continue;
      let seen = this.#bursts.get(pending.burstKey);
      if (!seen) {
        seen = new Set();
        this.#bursts.set(pending.burstKey, seen);
      }
      seen.add(eventKey);
      if (seen.size > r.maxPerMinute) return { suspicious: true, reason: r.rule };
    }
    const hit = this.rules[pending.firstHit];
    return hit ? { suspicious: true, reason: hit.rule } : { suspicious: false, reason: null };
  }

  #statelessHit(r: Exclude<SuspicionRule, { rule: "burst" }>, input: Omit<SuspicionInput, "eventKey">): boolean {
    switch (r.rule) {
      case "bot":
        return input.botKind === "bot";
      case "prefetcher":
        return input.botKind === "prefetcher";
      case "missing_user_agent":
        return input.userAgent === null;
      case "missing_ip":
        return input.ip === null;
      case "country_not_allowed":
        return input.country !== null && !r.countries.includes(input.country);
    }
  }
}
