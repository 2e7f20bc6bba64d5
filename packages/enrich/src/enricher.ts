import { hash, randomBytes } from "node:crypto";
import type { EnrichedFields, WarehouseRow } from "@tributary/schema";
import { cachedAgentClassifier, DEFAULT_UA_CACHE_SIZE } from "./agent.js";
import { campaignFile, campaignMap, type CampaignLookup, type CampaignSource } from "./campaigns.js";
import { EnrichError } from "./errors.js";
import { LRUCache } from "lru-cache";
import { openGeoDatabase, type GeoLookup, type GeoResult } from "./geo.js";
import { firstString, splitPath } from "./paths.js";
import {
  anonymizeIp,
  compileRedactions,
  normalizeIp,
  redact,
  truncateIp,
  RotatingHasher,
  type CompiledRedaction,
  type IpPrivacyOptions,
  type RedactionRule,
} from "./privacy.js";
import { reducePayload, reducedUserAgent, type PayloadPrivacy } from "./payload-privacy.js";
import { categorizeReferrer } from "./referrer.js";
import {
  DEFAULT_RULE_MAX_KEYS,
  DEFAULT_UNIQUE_RULE,
  SuspicionRules,
  UniquenessTracker,
  uniqueRule,
  type PendingSuspicion,
  type SuspicionRule,
} from "./rules.js";
import {
  platformOfOs,
  senderAmount,
  senderCountry,
  senderCurrency,
  senderDeviceType,
  senderRegion,
  senderToken,
  type SenderFields,
} from "./sender-fields.js";

/** Where each input lives in a body: dotted paths, the first non-empty value wins. */
export interface FieldPaths {
  ip: readonly string[];
  userAgent: readonly string[];
  referrer: readonly string[];
  link: readonly string[];
  campaign: readonly string[];
  /** What senders already say (sender-fields.ts): used as they are where valid. */
  country: readonly string[];
  region: readonly string[];
  deviceType: readonly string[];
  platform: readonly string[];
  channel: readonly string[];
  revenue: readonly string[];
  currency: readonly string[];
}

/**
 * The senders' layouts (docs/providers.md): link.clicked carries data.ip/user_agent/referrer/link_id/campaign; click.*
 * events nest them under data.click, data.link.id and data.campaign.id.
 */
export const DEFAULT_FIELD_PATHS: FieldPaths = {
  ip: ["data.ip", "data.click.ip", "data.ip_address", "ip"],
  userAgent: ["data.user_agent", "data.click.user_agent", "data.userAgent", "user_agent"],
  referrer: ["data.referrer", "data.click.referrer", "data.referer"],
  link: ["data.link_id", "data.link.id", "data.click.link_id"],
  campaign: ["data.campaign", "data.campaign.id", "data.campaign_id", "data.utm_campaign"],
  country: ["data.ip_country", "data.country", "data.geo.country", "data.click.country"],
  region: ["data.ip_region", "data.region", "data.geo.region", "data.click.region"],
  deviceType: ["data.device_type", "data.click.device_type", "data.device.type"],
  platform: ["data.platform", "data.click.platform"],
  channel: ["data.channel", "data.click.channel", "data.campaign.channel", "data.utm_medium"],
  revenue: ["data.revenue", "data.value", "data.amount"],
  currency: ["data.currency", "data.revenue_currency"],
};

export interface SourceEnrichOptions {
  fields?: Partial<FieldPaths>;
  /** `raw` keeps this source's client addresses and user agents in the payload (default: the enricher's). */
  payload?: PayloadPrivacy;
  /** Applied to this source's payload before load, after the global `redact`. */
  redact?: readonly RedactionRule[];
}

export interface EnrichOptions {
  /** null turns geo off. */
  geo: GeoLookup | null;
  ip: IpPrivacyOptions;
  fields?: Partial<FieldPaths>;
  /** Redactions for every source. */
  redact?: readonly RedactionRule[];
  sources?: Readonly<Record<string, SourceEnrichOptions>>;
  /**
   * `reduced` (default): the payload's address and user agent fields are rewritten to ip_anon and
   * the UA's families before it is stored or delivered; `raw` leaves them. Per source in `sources`.
   */
  payload?: PayloadPrivacy;
  /**
   * Where the sender's own field (country, region, device type, platform) and the derivation (geo
   * of the IP, families of the UA) both give a value: `sender` (default) takes the sender's, who
   * saw the client; `derived` takes ours. The other always fills in where one is missing.
   */
  prefer?: "sender" | "derived";
  campaigns?: CampaignLookup;
  /** The operator's own domains: referrers from them are `internal`. */
  internalDomains?: readonly string[];
  /** A name from UNIQUE_RULES; default per_link_24h. */
  uniqueRule?: string;
  suspicious?: readonly SuspicionRule[];
  /** Bound on the keys each stateful rule remembers. */
  maxKeys?: number;
  /** Distinct user agents whose classification is cached (default 10 000). */
  uaCacheSize?: number;
  /** Distinct client addresses whose normal form, geo and truncation are cached (default 50 000). */
  ipCacheSize?: number;
  /**
   * The key visitor ids are hashed under (32 bytes; random per enricher by default). Enrichers
   * that share one process's stateful verdicts share it (`portable()` carries it).
   */
  visitorKey?: Uint8Array;
}

export const DEFAULT_IP_CACHE_SIZE = 50_000;
/** Distinct visitors (address and user agent) whose id is cached. */
const VISITOR_CACHE_SIZE = 50_000;
/** Distinct referrers whose category is cached. */
const REFERRER_CACHE_SIZE = 10_000;

/**
 * EnrichOptions that can be posted to another thread: the geo database and campaign lookup by
 * where they come from, with the visitor key, so that the enricher built from them there
 * (`enricherFromPortable`) derives exactly what this one does.
 */
export type PortableEnrichOptions = Omit<EnrichOptions, "geo" | "campaigns" | "visitorKey"> & {
  /** The MMDB file (null: geo off). */
  geoDatabase: string | null;
  campaigns?: CampaignSource;
  visitorKey: Uint8Array;
};

/** What the stateful rules need of an event, made by `prepare` wherever the event was parsed. */
export interface PendingVerdicts {
  /** The uniqueness rule's key; null leaves is_unique NULL. */
  uniqueKey: string | null;
  /** null for an event that is not judged (no IP and no UA): is_suspicious NULL. */
  suspicion: PendingSuspicion | null;
}

/** The columns only the process-wide state can decide. */
export type StatefulVerdicts = Pick<EnrichedFields, "is_unique" | "is_suspicious" | "suspicious_reason">;

/** What an address always yields, whatever the event: cached, since clients send many events. */
interface AddressFacts {
  ip: string | null;
  geo: GeoResult | null;
  /** ip_anon in truncate mode (hash mode depends on the time's salt, so it is not cached). */
  truncated: string | null;
}

type CompiledPaths = Record<keyof FieldPaths, string[][]>;

interface SourcePlan {
  paths: CompiledPaths;
  redactions: CompiledRedaction[];
  payload: PayloadPrivacy;
}

export interface Enricher {
  /**
   * Returns the row with its enriched columns set, and its payload redacted when a rule applies.
   * `body` is the parsed payload (it may be changed in place by redaction). Never throws for an
   * event's content: what cannot be derived is NULL. The same as `settle` after `prepare`.
   */
  enrich(row: WarehouseRow, body: unknown): WarehouseRow;
  /**
   * Everything an event yields on its own (any thread, any order): the row with its enriched
   * columns but is_unique, is_suspicious and suspicious_reason NULL, and what `settle` needs.
   */
  prepare(row: WarehouseRow, body: unknown): { row: WarehouseRow; pending: PendingVerdicts };
  /**
   * The verdicts that depend on the events seen before (uniqueness, bursts): on one thread, in
   * stream order, for each prepared event exactly as `enrich` would have.
   */
  settle(eventKey: string, pending: PendingVerdicts): StatefulVerdicts;
  /** Options that rebuild this enricher on another thread, or undefined when its geo or campaign lookup is an object only this thread has. */
  portable(): PortableEnrichOptions | undefined;
  /**
   * The `visitor_hash` values one visitor (client address, user agent as sent) had from `from` to
   * `to` under the current hash key: one per salt period. Throws visitor_hash_unavailable without
   * a key, enrich_config_invalid when `ip` is not an address.
   */
  visitorHashes(ip: string, userAgent: string | null, from: Date, to: Date): string[];
}

function compilePaths(fields: Partial<FieldPaths> | undefined, base: FieldPaths): CompiledPaths {
  const keys = Object.keys(base) as Array<keyof FieldPaths>;
  return Object.fromEntries(keys.map((k) => [k, (fields?.[k] ?? base[k]).map(splitPath)])) as CompiledPaths;
}

/** Per source: where its fields are read from and what is redacted (the global rules, then its own). */
function compilePlans(
  options: EnrichOptions,
  hasher: RotatingHasher | undefined,
): { defaultPlan: SourcePlan; plans: Map<string, SourcePlan> } {
  const base: FieldPaths = { ...DEFAULT_FIELD_PATHS, ...options.fields };
  const globalRedactions = compileRedactions(options.redact ?? [], hasher, "enrich.redact");
  const payload = options.payload ?? "reduced";
  const defaultPlan: SourcePlan = { paths: compilePaths(undefined, base), redactions: globalRedactions, payload };
  const plans = new Map<string, SourcePlan>();
  for (const [source, opts] of Object.entries(options.sources ?? {})) {
    plans.set(source, {
      paths: compilePaths(opts.fields, base),
      redactions: [
        ...globalRedactions,
        ...compileRedactions(opts.redact ?? [], hasher, `enrich.sources.${source}.redact`),
      ],
      payload: opts.payload ?? payload,
    });
  }
  return { defaultPlan, plans };
}

/**
 * The in-memory visitor id of the stateful rules: a hash of the full IP and UA under a random
 * per-process key (a key prefix; never stored, so a plain hash is enough and is faster than an
 * HMAC), in one call (crypto.hash: no Hash object per event).
 */
function visitorOf(keyPrefix: string, ip: string | null, ua: string | null): string | null {
  if (ip === null) return null;
  return hash("sha256", `${keyPrefix}${ip}\u0000${ua ?? ""}`, "base64url");
}

/** visitorOf behind an LRU: a visitor sends many events, and the hash was a fifth of the stage. */
function cachedVisitors(visitorKey: Uint8Array): (ip: string | null, ua: string | null) => string | null {
  const visitors = new LRUCache<string, string>({ max: VISITOR_CACHE_SIZE });
  const keyPrefix = Buffer.from(visitorKey).toString("hex");
  return (ip, ua) => {
    if (ip === null) return null;
    const key = `${ip}\u0000${ua ?? ""}`;
    let visitor = visitors.get(key);
    if (visitor === undefined) {
      visitor = visitorOf(keyPrefix, ip, ua)!;
      visitors.set(key, visitor);
    }
    return visitor;
  };
}

/** categorizeReferrer behind an LRU: it parses a URL, and referrers repeat. */
function cachedReferrers(internal: readonly string[]): (referrer: string | null) => string {
  const categories = new LRUCache<string, string>({ max: REFERRER_CACHE_SIZE });
  return (referrer) => {
    if (referrer === null) return categorizeReferrer(null, internal);
    let category = categories.get(referrer);
    if (category === undefined) {
      category = categorizeReferrer(referrer, internal);
      categories.set(referrer, category);
    }
    return category;
  };
}

/**
 * An address's normal form, geo and truncation, behind a bounded LRU (lru-cache): parsing it
 * (ipaddr.js, twice) and looking it up were a third of the stage's time, and clients send many events.
 */
function addressFacts(options: EnrichOptions): (rawIp: string) => AddressFacts {
  const addresses = new LRUCache<string, AddressFacts>({ max: options.ipCacheSize ?? DEFAULT_IP_CACHE_SIZE });
  return (rawIp) => {
    let facts = addresses.get(rawIp);
    if (facts === undefined) {
      const ip = normalizeIp(rawIp);
      facts = {
        ip,
        geo: ip !== null && options.geo ? options.geo.lookup(ip) : null,
        truncated: ip !== null && options.ip.mode === "truncate" ? truncateIp(ip) : null,
      };
      addresses.set(rawIp, facts);
    }
    return facts;
  };
}

/** The stateless derivation of one event: prepare()'s body. */
type Derive = (row: WarehouseRow, body: unknown) => { row: WarehouseRow; pending: PendingVerdicts };

/** What the sender says, where it says it validly (sender-fields.ts). */
function readSenderFields(body: unknown, p: CompiledPaths, derivedCountry: string | null): SenderFields {
  const country = senderCountry(body, p.country);
  return {
    country,
    region: senderRegion(body, p.region, country ?? derivedCountry),
    deviceType: senderDeviceType(body, p.deviceType),
    platform: senderToken(body, p.platform),
    channel: senderToken(body, p.channel),
    revenue: senderAmount(body, p.revenue),
    currency: senderCurrency(body, p.currency),
  };
}

/** The sender's value and ours, in the configured order of preference. */
function choose(preferSender: boolean, sender: string | null, derived: string | null): string | null {
  return preferSender ? (sender ?? derived) : (derived ?? sender);
}

function deriver(
  options: EnrichOptions,
  hasher: RotatingHasher | undefined,
  unique: UniquenessTracker,
  suspicion: SuspicionRules,
  visitorKey: Uint8Array,
): Derive {
  const ipMode = options.ip.mode;
  const preferSender = (options.prefer ?? "sender") === "sender";
  const { defaultPlan, plans } = compilePlans(options, hasher);
  const classifyAgent = cachedAgentClassifier(options.uaCacheSize ?? DEFAULT_UA_CACHE_SIZE);
  const factsOf = addressFacts(options);
  const visitorOf = cachedVisitors(visitorKey);
  const referrerCategory = cachedReferrers(options.internalDomains ?? []);
  const anonymous = (ip: string | null, truncated: string | null, at: Date) =>
    ipMode === "truncate" ? truncated : anonymizeIp(ip, ipMode, hasher, at);
  return (row, body) => {
    const plan = plans.get(row.source) ?? defaultPlan;
    const p = plan.paths;
    const at = row.occurred_at ?? row.received_at;
    // Read the inputs before the payload's privacy and redaction can change them.
    const rawIp = firstString(body, p.ip);
    const address = rawIp === null ? null : factsOf(rawIp);
    const ip = address?.ip ?? null;
    const ua = firstString(body, p.userAgent);
    const referrer = firstString(body, p.referrer);
    const link = firstString(body, p.link);
    const campaign = firstString(body, p.campaign);
    const clickLike = ip !== null || ua !== null;
    const agent = ua !== null ? classifyAgent(ua) : null;
    const geo = address?.geo ?? null;
    const sender = readSenderFields(body, p, geo?.country ?? null);
    const meta = campaign !== null ? options.campaigns?.get(campaign) : undefined;
    const visitor = visitorOf(ip, ua);
    const uniqueKey = unique.keyOf({ visitor, link, campaign, source: row.source, at });
    const country = choose(preferSender, sender.country, geo?.country ?? null);
    const deviceType = choose(preferSender, sender.deviceType, agent?.device_type ?? null);
    const enriched: EnrichedFields = {
      link_id: link,
      campaign,
      campaign_meta: meta === undefined ? null : JSON.stringify(meta),
      geo_country: country,
      geo_region: choose(preferSender, sender.region, geo?.region ?? null),
      device_type: deviceType,
      os_name: agent?.os_name ?? null,
      browser_name: agent?.browser_name ?? null,
      is_bot: agent ? agent.is_bot : null,
      bot_kind: agent?.bot_kind ?? null,
      referrer_category: clickLike || referrer !== null ? referrerCategory(referrer) : null,
      ip_anon: anonymous(ip, address?.truncated ?? null, at),
      is_unique: null,
      is_suspicious: null,
      suspicious_reason: null,
      channel: sender.channel,
      platform: choose(preferSender, sender.platform, platformOfOs(agent?.os_name ?? null, deviceType)),
      revenue: sender.revenue,
      currency: sender.revenue !== null ? sender.currency : null,
      unique_rule: uniqueKey !== null ? unique.rule.name : null,
      visitor_hash: hasher && ip !== null ? hasher.hash(visitorHashInput(ip, ua), at) : null,
    };
    const pending: PendingVerdicts = {
      uniqueKey,
      suspicion: clickLike
        ? suspicion.prejudge({ visitor, userAgent: ua, ip, country, botKind: agent?.bot_kind ?? null, at })
        : null,
    };
    const reduceAddress = (raw: string) => {
      const facts = factsOf(raw);
      return facts.ip === null ? null : anonymous(facts.ip, facts.truncated, at);
    };
    let changed =
      plan.payload === "reduced" &&
      reducePayload(body, p, reduceAddress, (text) => reducedUserAgent(classifyAgent(text)));
    if (plan.redactions.length > 0) changed = redact(body, plan.redactions, hasher, at) || changed;
    const payload = changed ? JSON.stringify(body) : row.payload;
    return { row: { ...row, payload, enriched }, pending };
  };
}

export function createEnricher(options: EnrichOptions): Enricher {
  const ipMode = options.ip.mode;
  const hasher =
    options.ip.hashKey !== undefined
      ? new RotatingHasher(options.ip.hashKey, options.ip.saltRotationSeconds)
      : undefined;
  if (ipMode === "hash" && !hasher)
    throw new EnrichError(
      "enrich_config_invalid",
      "enrich.ip.mode is hash but no hash key is set — set enrich.hashKeyEnv (or hashKeyFile), or use mode truncate",
    );
  const maxKeys = options.maxKeys ?? DEFAULT_RULE_MAX_KEYS;
  const unique = new UniquenessTracker(uniqueRule(options.uniqueRule ?? DEFAULT_UNIQUE_RULE), maxKeys);
  const suspicion = new SuspicionRules(options.suspicious, maxKeys);
  // Visitor identity for the stateful rules lives only in memory, keyed by a random key: it is
  // never stored, so it can use the full IP and UA.
  const visitorKey = options.visitorKey ?? randomBytes(32);
  const derive = deriver(options, hasher, unique, suspicion, visitorKey);
  const settle = (eventKey: string, pending: PendingVerdicts): StatefulVerdicts => {
    const verdict = pending.suspicion ? suspicion.settle(eventKey, pending.suspicion) : null;
    return {
      is_unique: unique.isFirst(pending.uniqueKey, eventKey),
      is_suspicious: verdict ? verdict.suspicious : null,
      suspicious_reason: verdict?.reason ?? null,
    };
  };
  return {
    prepare: derive,
    settle,
    enrich(row, body) {
      const prepared = derive(row, body);
      const out = prepared.row;
      Object.assign(out.enriched!, settle(out.event_key, prepared.pending));
      return out;
    },
    portable: () => portableOptions(options, visitorKey),
    visitorHashes(ip, userAgent, from, to) {
      if (!hasher)
        throw new EnrichError(
          "visitor_hash_unavailable",
          "no enrich hash key is configured: rows carry no visitor hash",
        );
      const normal = normalizeIp(ip);
      if (normal === null) throw new EnrichError("enrich_config_invalid", `${JSON.stringify(ip)} is not an IP address`);
      return hasher.hashesBetween(visitorHashInput(normal, userAgent), from, to);
    },
  };
}

/** What visitor_hash hashes: the normal form of the address and the user agent as sent, apart from ip_anon's hashes. */
function visitorHashInput(ip: string, userAgent: string | null): string {
  return `visitor\u0000${ip}\u0000${userAgent ?? ""}`;
}

function portableOptions(options: EnrichOptions, visitorKey: Uint8Array): PortableEnrichOptions | undefined {
  const { geo, campaigns, visitorKey: _key, ...rest } = options;
  if (geo && geo.path === undefined) return undefined;
  if (campaigns && campaigns.source === undefined) return undefined;
  return {
    ...rest,
    geoDatabase: geo ? geo.path! : null,
    ...(campaigns ? { campaigns: campaigns.source! } : {}),
    visitorKey,
  };
}

/** The enricher that `portable()` describes, built on this thread (a worker's). */
export function enricherFromPortable(portable: PortableEnrichOptions): Enricher {
  const { geoDatabase, campaigns, ...rest } = portable;
  return createEnricher({
    ...rest,
    geo: geoDatabase === null ? null : openGeoDatabase(geoDatabase),
    ...(campaigns
      ? { campaigns: "file" in campaigns ? campaignFile(campaigns.file, campaigns) : campaignMap(campaigns.entries) }
      : {}),
  });
}
