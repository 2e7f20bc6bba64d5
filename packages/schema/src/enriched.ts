/**
 * Columns the enrichment stage adds beside the payload. They never hold a raw IP or a full
 * user agent: `ip_anon` is a truncated address or a keyed hash, the UA is reduced to families.
 * Every one is nullable: an event without an IP, a UA or a link simply has nothing to derive.
 */
export interface EnrichedFields {
  link_id: string | null;
  campaign: string | null;
  /** The campaign's entry in the configured lookup, as JSON text. */
  campaign_meta: string | null;
  /** ISO 3166-1 alpha-2. */
  geo_country: string | null;
  /** ISO 3166-2 subdivision code, where the database has it (GeoIP2/GeoLite2 City). */
  geo_region: string | null;
  /** mobile, tablet, desktop, smarttv, console, wearable, embedded, xr, bot, unknown. */
  device_type: string | null;
  os_name: string | null;
  browser_name: string | null;
  is_bot: boolean | null;
  /** "bot" or "prefetcher" (link-preview fetchers), null for people. */
  bot_kind: string | null;
  /** direct, search, social, email, internal, other. */
  referrer_category: string | null;
  /** The client IP, truncated (/24, /48) or a keyed hash with a rotating salt. */
  ip_anon: string | null;
  is_unique: boolean | null;
  is_suspicious: boolean | null;
  suspicious_reason: string | null;
  /** The sender's channel (email, social, paid_search…), lower-case. */
  channel: string | null;
  /** ios, android, web… : the sender's, else what the UA's OS means. */
  platform: string | null;
  /** A conversion's amount as decimal text (`49.99`): summed exactly in SQL. */
  revenue: string | null;
  /** ISO 4217, upper-case. */
  currency: string | null;
  /** The rule that decided is_unique (`per_link_24h`…), so a count says what "unique" meant then. */
  unique_rule: string | null;
  /**
   * The visitor (client address and full user agent) as a keyed hash whose salt rotates (daily by
   * default): equal within one period, unlinkable across periods without the key. What erasure of
   * one visitor finds their rows by (the hashes of each period, recomputed from the address and
   * user agent under the current key). NULL without a hash key or without an address.
   */
  visitor_hash: string | null;
}

export type EnrichedColumnType = "string" | "boolean" | "json";

/** The enriched columns in table order, for each sink to create and load. */
export const ENRICHED_COLUMNS = [
  { name: "link_id", type: "string" },
  { name: "campaign", type: "string" },
  { name: "campaign_meta", type: "json" },
  { name: "geo_country", type: "string" },
  { name: "geo_region", type: "string" },
  { name: "device_type", type: "string" },
  { name: "os_name", type: "string" },
  { name: "browser_name", type: "string" },
  { name: "is_bot", type: "boolean" },
  { name: "bot_kind", type: "string" },
  { name: "referrer_category", type: "string" },
  { name: "ip_anon", type: "string" },
  { name: "is_unique", type: "boolean" },
  { name: "is_suspicious", type: "boolean" },
  { name: "suspicious_reason", type: "string" },
  { name: "channel", type: "string" },
  { name: "platform", type: "string" },
  { name: "revenue", type: "string" },
  { name: "currency", type: "string" },
  { name: "unique_rule", type: "string" },
  { name: "visitor_hash", type: "string" },
] as const satisfies ReadonlyArray<{ name: keyof EnrichedFields; type: EnrichedColumnType }>;

/** Enriched fields of a row that was not enriched: every column NULL. */
export function emptyEnrichment(): EnrichedFields {
  return {
    link_id: null,
    campaign: null,
    campaign_meta: null,
    geo_country: null,
    geo_region: null,
    device_type: null,
    os_name: null,
    browser_name: null,
    is_bot: null,
    bot_kind: null,
    referrer_category: null,
    ip_anon: null,
    is_unique: null,
    is_suspicious: null,
    suspicious_reason: null,
    channel: null,
    platform: null,
    revenue: null,
    currency: null,
    unique_rule: null,
    visitor_hash: null,
  };
}

/**
 * The enriched columns the enrich stage decided (`Tributary-Enrichment`), checked column by column:
 * each one present, of its type or null. Undefined for anything else (the loader then dead-letters
 * the event: a row without its verdicts would disagree with its deliveries; a deliverer shows none).
 */
export function parseEnrichment(text: string): EnrichedFields | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  const out: Record<string, string | boolean | null> = {};
  for (const { name, type } of ENRICHED_COLUMNS) {
    const v = record[name] ?? null;
    if (v !== null && typeof v !== (type === "boolean" ? "boolean" : "string")) return undefined;
    out[name] = v as string | boolean | null;
  }
  return out as unknown as EnrichedFields;
}
