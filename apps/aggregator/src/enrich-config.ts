import { Type, type Static } from "@sinclair/typebox";
import { ConfigError, resolveSecret, SecretRef, StringEnum } from "@tributary/config";
import {
  campaignFile,
  createEnricher,
  DEFAULT_SALT_ROTATION_SECONDS,
  DEFAULT_UNIQUE_RULE,
  EnrichError,
  openGeoDatabase,
  UNIQUE_RULES,
  type Enricher,
  type SuspicionRule,
} from "@tributary/enrich";
import { ApiTokenRefSchema, RateLimitSchema, resolveApiTokens, type ApiToken } from "@tributary/query-api";

const Redaction = Type.Object(
  {
    path: Type.String({ minLength: 1, description: "dotted path in the body, e.g. data.ip" }),
    action: StringEnum(["drop", "hash"], { description: "drop the field, or replace it with a keyed hash" }),
  },
  { additionalProperties: false },
);
const Paths = Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }));
/** Where each input is read in a body, per field: dotted paths, the first one holding a value wins. */
const FieldPathsSchema = Type.Object(
  {
    ip: Paths,
    userAgent: Paths,
    referrer: Paths,
    link: Paths,
    campaign: Paths,
    country: Paths,
    region: Paths,
    deviceType: Paths,
    platform: Paths,
    channel: Paths,
    revenue: Paths,
    currency: Paths,
  },
  { additionalProperties: false },
);
const PayloadPrivacySchema = StringEnum(["reduced", "raw"], {
  default: "reduced",
  description:
    "reduced: the stored, served and delivered payload has every client address rewritten as ip_anon and every user agent reduced to its families; raw keeps them (per source in sources.<id>.payload)",
});
const SuspicionRuleSchema = Type.Union([
  Type.Object(
    { rule: StringEnum(["bot", "prefetcher", "missing_user_agent", "missing_ip"]) },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      rule: Type.Literal("country_not_allowed"),
      countries: Type.Array(Type.String({ pattern: "^[A-Z]{2}$" }), { minItems: 1 }),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    { rule: Type.Literal("burst"), maxPerMinute: Type.Integer({ minimum: 1 }) },
    { additionalProperties: false },
  ),
]);

export const EnrichConfigSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: "derive the enriched columns before load" }),
    geoDatabase: Type.Optional(
      Type.String({
        minLength: 1,
        description: "a GeoLite2/GeoIP2 City or Country .mmdb; default the bundled CC0 country database",
      }),
    ),
    ipMode: StringEnum(["truncate", "hash", "drop"], {
      default: "truncate",
      description: "how ip_anon keeps the IP: /24 and /48, a keyed hash with a rotating salt, or not at all",
    }),
    hashKeyEnv: Type.Optional(
      Type.String({
        minLength: 1,
        description: "environment variable holding the HMAC key (>= 16 bytes) for ipMode hash and hashed redactions",
      }),
    ),
    hashKeyFile: Type.Optional(Type.String({ minLength: 1, description: "file holding the HMAC key" })),
    saltRotationSeconds: Type.Integer({
      minimum: 60,
      default: DEFAULT_SALT_ROTATION_SECONDS,
      description: "how long one hash salt lives",
    }),
    campaignFile: Type.Optional(
      Type.String({
        minLength: 1,
        description: "JSON campaign metadata, keyed by campaign id (re-read when it changes)",
      }),
    ),
    internalDomains: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description: "your own domains: referrers from them are internal",
    }),
    uniqueRule: Type.String({
      default: DEFAULT_UNIQUE_RULE,
      description: `is_unique rule: ${Object.keys(UNIQUE_RULES).join(", ")}`,
    }),
    suspicious: Type.Optional(
      Type.Array(SuspicionRuleSchema, { description: "is_suspicious rules in order; the first match is the reason" }),
    ),
    redact: Type.Array(Redaction, {
      default: [],
      description: "payload fields dropped or hashed before load, for every source",
    }),
    payload: PayloadPrivacySchema,
    prefer: StringEnum(["sender", "derived"], {
      default: "sender",
      description:
        "where the sender's own country, region, device type or platform and the derived one (IP geo, UA) both exist, which one the columns keep; the other fills in where one is missing",
    }),
    fields: Type.Optional(FieldPathsSchema),
    sources: Type.Record(
      Type.String(),
      Type.Object(
        {
          fields: Type.Optional(FieldPathsSchema),
          redact: Type.Optional(Type.Array(Redaction)),
          payload: Type.Optional(
            StringEnum(["reduced", "raw"], {
              description: "raw: this source's payload keeps its client addresses and user agents (opt-in)",
            }),
          ),
        },
        { additionalProperties: false },
      ),
      { default: {}, description: "per-source field paths, redactions and payload privacy" },
    ),
    maxKeys: Type.Integer({
      minimum: 1000,
      default: 1_000_000,
      description: "keys each stateful rule remembers (is_unique, burst)",
    }),
  },
  { additionalProperties: false, default: {} },
);
export type EnrichConfig = Static<typeof EnrichConfigSchema>;

export const ApiConfigSchema = Type.Object(
  {
    enabled: Type.Boolean({
      default: true,
      description: "serve the query API (/v1/events, /v1/analytics/…) on this port",
    }),
    tokens: Type.Array(ApiTokenRefSchema, { default: [], description: "bearer tokens, each scoped to sources" }),
    // Off by default: behind a sidecar proxy or a reverse proxy on the same host every request is loopback.
    anonymousLoopback: Type.Boolean({
      default: false,
      description:
        "token-less requests from 127.0.0.1/::1 read every source (`tributary up` turns it on for the local loop); keep it off wherever a proxy runs beside the aggregator",
    }),
    rateLimit: RateLimitSchema,
  },
  { additionalProperties: false, default: {} },
);
export type ApiConfig = Static<typeof ApiConfigSchema>;

/**
 * The operator endpoints (`/v1/reconcile/…`, `/v1/deliveries`: `tributary reconcile`, the delivery
 * log): a bearer token from an env var or a file. Without one they answer only loopback callers.
 */
export const OperatorTokenSchema = Type.Optional(SecretRef);

/** The operator token's value, at least 16 characters; undefined when none is configured. */
export function operatorToken(
  ref: { env?: string | undefined; file?: string | undefined } | undefined,
  env: NodeJS.ProcessEnv,
): string | undefined {
  if (ref === undefined) return undefined;
  const token = resolveSecret("operatorToken", ref, env, { what: "operator token" });
  if (token.length < 16)
    throw new ConfigError(
      "operatorToken",
      "is shorter than 16 characters",
      "use a long random token, e.g. `openssl rand -hex 24`",
    );
  return token;
}

/** The enrichment stage the config describes, or undefined when it is off. */
export function buildEnricher(config: EnrichConfig, env: NodeJS.ProcessEnv): Enricher | undefined {
  if (!config.enabled) return undefined;
  const hasKey = config.hashKeyEnv !== undefined || config.hashKeyFile !== undefined;
  const hashKey = hasKey
    ? resolveSecret("enrich.hashKey", { env: config.hashKeyEnv, file: config.hashKeyFile }, env, { what: "hash key" })
    : undefined;
  if (config.ipMode === "hash" && hashKey === undefined)
    throw new ConfigError(
      "enrich.ipMode",
      "is hash but no key is set",
      "set enrich.hashKeyEnv or enrich.hashKeyFile (openssl rand -hex 32), or use ipMode truncate",
    );
  if (!(config.uniqueRule in UNIQUE_RULES))
    throw new ConfigError(
      "enrich.uniqueRule",
      `unknown rule ${config.uniqueRule}`,
      `use one of ${Object.keys(UNIQUE_RULES).join(", ")}`,
    );
  try {
    return createEnricher({
      geo: openGeoDatabase(config.geoDatabase),
      ip: { mode: config.ipMode, hashKey, saltRotationSeconds: config.saltRotationSeconds },
      ...(config.campaignFile !== undefined ? { campaigns: campaignFile(config.campaignFile) } : {}),
      internalDomains: config.internalDomains,
      uniqueRule: config.uniqueRule,
      ...(config.suspicious !== undefined ? { suspicious: config.suspicious as SuspicionRule[] } : {}),
      redact: config.redact,
      payload: config.payload,
      prefer: config.prefer,
      ...(config.fields !== undefined ? { fields: config.fields } : {}),
      sources: config.sources,
      maxKeys: config.maxKeys,
    });
  } catch (err) {
    if (err instanceof EnrichError) {
      const field =
        err.code === "geo_database_unreadable"
          ? "enrich.geoDatabase"
          : err.code === "campaign_file_unreadable"
            ? "enrich.campaignFile"
            : "enrich";
      throw new ConfigError(field, err.message, "", { cause: err });
    }
    throw err;
  }
}

export function apiTokens(config: ApiConfig, env: NodeJS.ProcessEnv): ApiToken[] {
  return resolveApiTokens(config.tokens, env, "api.tokens");
}
