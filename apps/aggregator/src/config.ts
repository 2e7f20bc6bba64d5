import { SealingKeys } from "@tributary/control";
import { Type, type Static } from "@sinclair/typebox";
import { ConfigError, envString, loadConfig, StringEnum, serviceEnvOverrides } from "@tributary/config";
import { isLoopbackHost } from "@tributary/runtime";
import {
  DEFAULT_DELIVERIES_DURABLE,
  ENRICHED_STREAM,
  HUB_ENRICH_DURABLE,
  HUB_LOADER_DURABLE,
  HUB_STREAM,
} from "@tributary/streams";
import { DEFAULT_BATCH_POLICY, DEFAULT_FLUSHES_IN_FLIGHT } from "@tributary/loader";
import type { Enricher } from "@tributary/enrich";
import type { ApiToken } from "@tributary/query-api";
import {
  ApiConfigSchema,
  apiTokens,
  buildEnricher,
  EnrichConfigSchema,
  operatorToken,
  OperatorTokenSchema,
} from "./enrich-config.js";
import { RetentionConfigSchema } from "./retention.js";

export const DEFAULT_HTTP_PORT = 8090;
export const DEFAULT_DURABLE = HUB_LOADER_DURABLE;
/**
 * The aggregator's dedupe depth sits between the streams' windows and the warehouse's key: it
 * catches the same event accepted in two regions (each regional stream stores it once) before a
 * warehouse round trip. An hour of keys at 500k is ~100 MB; the warehouse key catches the rest.
 */
export const DEFAULT_AGGREGATOR_RECENT_KEYS = { maxKeys: 500_000, windowMs: 60 * 60 * 1000 };

export const AggregatorConfigSchema = Type.Object(
  {
    host: Type.String({
      default: "127.0.0.1",
      description: "address of the health/query endpoint; env TRIBUTARY_HOST",
    }),
    port: Type.Integer({
      minimum: 0,
      maximum: 65535,
      default: DEFAULT_HTTP_PORT,
      description: "port of the health/query endpoint; env TRIBUTARY_PORT",
    }),
    logLevel: StringEnum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], { default: "info" }),
    warehouseUrl: Type.String({
      minLength: 1,
      default: "duckdb://./.tributary/tributary.duckdb",
      description: "where rows go, e.g. duckdb:///var/lib/tributary/events.duckdb; env TRIBUTARY_WAREHOUSE_URL",
    }),
    nats: Type.Object(
      {
        servers: Type.Array(Type.String({ pattern: "^(nats|tls)://" }), {
          minItems: 1,
          default: ["nats://127.0.0.1:4222"],
          description: "NATS URLs of the hub; env TRIBUTARY_NATS_URL (comma-separated)",
        }),
        user: Type.Optional(Type.String()),
        pass: Type.Optional(Type.String()),
      },
      { additionalProperties: false, default: {} },
    ),
    manageStreams: Type.Boolean({
      default: true,
      description: "create the DLQ stream at start; false when operators provision streams (least-privilege users)",
    }),
    control: Type.Object(
      {
        enabled: Type.Boolean({
          default: false,
          description:
            "serve the management API (/v1/sources, /v1/subscriptions, /v1/audit) beside the query API; needs TRIBUTARY_SEALING_KEYS (or _FILE) and the control user's password in TRIBUTARY_CONTROL_NATS_PASS",
        }),
        user: Type.String({ default: "control", description: "the hub NATS user of the management API" }),
        prometheusUrl: Type.Optional(
          Type.String({
            pattern: "^https?://",
            description:
              "the Prometheus that scrapes every gateway: the API reads a source's recent refusals there (GET /v1/sources/{id}/refusals)",
          }),
        ),
        lastUseEverySeconds: Type.Integer({
          minimum: 1,
          default: 15,
          description: "how often the source secrets' last use seen in the events is written to the control bucket",
        }),
        allowPrivate: Type.Array(Type.String({ minLength: 1 }), {
          default: [],
          description: "non-public addresses a subscription's test send may reach (the delivery process's list)",
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    stream: Type.String({
      minLength: 1,
      default: HUB_STREAM,
      description: "the stream the enrich stage reads: EVENTS at the hub; env TRIBUTARY_STREAM",
    }),
    enrichedStream: Type.String({
      minLength: 1,
      default: ENRICHED_STREAM,
      description: "the stream the enrich stage writes and the loader (and every destination) reads",
    }),
    enrichDurable: Type.String({
      pattern: "^[A-Za-z0-9_-]+$",
      default: HUB_ENRICH_DURABLE,
      description: "the enrich stage's durable consumer on the hub stream",
    }),
    durable: Type.String({
      pattern: "^[A-Za-z0-9_-]+$",
      default: DEFAULT_DURABLE,
      description: "durable consumer name; replicas sharing it share the work",
    }),
    maxAckPending: Type.Integer({
      minimum: 1,
      default: 10_000,
      description: "unacked events at most in flight: the memory bound",
    }),
    ackWaitMs: Type.Integer({
      minimum: 1000,
      default: 60_000,
      description: "redelivery deadline for an unacked event",
    }),
    metricsIntervalMs: Type.Integer({
      minimum: 100,
      default: 5_000,
      description: "how often the hub's consumer, stream and DLQ state is read for the metrics (ms)",
    }),
    dedupe: Type.Object(
      {
        maxKeys: Type.Integer({
          minimum: 0,
          default: DEFAULT_AGGREGATOR_RECENT_KEYS.maxKeys,
          description: "recent keys held in memory (~150-200 bytes each); 0 turns the aggregator depth off",
        }),
        windowMs: Type.Integer({
          minimum: 1,
          default: DEFAULT_AGGREGATOR_RECENT_KEYS.windowMs,
          description: "how long a loaded key counts as recent",
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    deliveries: Type.Object(
      {
        enabled: Type.Boolean({
          default: true,
          description:
            "load the delivery process's attempt log (DELIVERIES stream) into the deliveries table; waits for the stream while it does not exist",
        }),
        durable: Type.String({
          pattern: "^[A-Za-z0-9_-]+$",
          default: DEFAULT_DELIVERIES_DURABLE,
          description: "durable consumer name on DELIVERIES",
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    batch: Type.Object(
      {
        maxEvents: Type.Integer({
          minimum: 1,
          default: DEFAULT_BATCH_POLICY.maxEvents,
          description: "the largest batch; the loader adapts the size below it",
        }),
        minEvents: Type.Integer({
          minimum: 1,
          default: 100,
          description: "the smallest batch the adaptive size shrinks to",
        }),
        targetLatencyMs: Type.Integer({
          minimum: 1,
          default: 1000,
          description:
            "flush latency the adaptive size aims for (ms): below half of it batches grow, above it they shrink",
        }),
        flushesInFlight: Type.Integer({
          minimum: 1,
          maximum: 16,
          default: DEFAULT_FLUSHES_IN_FLIGHT,
          description: "batches inserted at once",
        }),
        maxBytes: Type.Integer({ minimum: 1024, default: DEFAULT_BATCH_POLICY.maxBytes }),
        maxAgeMs: Type.Integer({
          minimum: 1,
          default: DEFAULT_BATCH_POLICY.maxAgeMs,
          description: "how long the first event of a batch may wait for the rest",
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    retention: RetentionConfigSchema,
    enrich: EnrichConfigSchema,
    api: ApiConfigSchema,
    operatorToken: OperatorTokenSchema,
    operatorLoopback: Type.Boolean({
      default: false,
      description:
        "local development only: token-less callers at exactly 127.0.0.1 or ::1 pass the operator guard (/v1/stats, /metrics, the operator endpoints); needs a loopback host (`tributary up` sets it)",
    }),
  },
  { additionalProperties: false },
);

export type AggregatorConfig = Static<typeof AggregatorConfigSchema>;

export function loadAggregatorConfig(
  env: NodeJS.ProcessEnv = process.env,
  file = envString(env, "TRIBUTARY_CONFIG"),
): AggregatorConfig {
  const config = loadConfig(AggregatorConfigSchema, {
    file,
    overrides: {
      ...serviceEnvOverrides(env),
      warehouseUrl: envString(env, "TRIBUTARY_WAREHOUSE_URL"),
      stream: envString(env, "TRIBUTARY_STREAM"),
    },
  });
  // A batch can never fill if the server stops delivering at maxAckPending.
  config.batch.maxEvents = Math.min(config.batch.maxEvents, config.maxAckPending);
  config.batch.minEvents = Math.min(config.batch.minEvents, config.batch.maxEvents);
  return config;
}

/** The config and what it names outside itself: secrets read, the enrichment stage built. */
export interface AggregatorSettings {
  config: AggregatorConfig;
  enricher: Enricher | undefined;
  tokens: ApiToken[];
  operatorToken: string | undefined;
  /** The management API's sealing keys and hub login, when `control.enabled`. */
  control: { keys: SealingKeys; user: string; pass: string } | undefined;
}

/**
 * The loopback switches let token-less callers in; they are for a developer's machine, where the
 * aggregator listens on loopback. Listening beyond it, the same switch would open the endpoints to
 * whatever forwards over loopback in the pod (a proxy sidecar, a port-forward): refused at start.
 */
function checkLoopbackSwitches(config: AggregatorConfig): void {
  if (isLoopbackHost(config.host)) return;
  const fix = `listen on 127.0.0.1 (host), or turn it off and use tokens`;
  if (config.operatorLoopback)
    throw new ConfigError("operatorLoopback", `is on while the aggregator listens on ${config.host}`, fix);
  if (config.api.anonymousLoopback)
    throw new ConfigError("api.anonymousLoopback", `is on while the aggregator listens on ${config.host}`, fix);
}

/** Everything the process needs before it starts; a ConfigError names the field and the fix (main exits 78). */
export function loadAggregatorSettings(env: NodeJS.ProcessEnv, file: string | undefined): AggregatorSettings {
  const config = loadAggregatorConfig(env, file);
  checkLoopbackSwitches(config);
  return {
    config,
    enricher: buildEnricher(config.enrich, env),
    tokens: apiTokens(config.api, env),
    operatorToken: operatorToken(config.operatorToken, env),
    control: config.control.enabled ? controlSettings(config.control.user, env) : undefined,
  };
}

function controlSettings(user: string, env: NodeJS.ProcessEnv): NonNullable<AggregatorSettings["control"]> {
  const pass = env.TRIBUTARY_CONTROL_NATS_PASS;
  if (!pass)
    throw new ConfigError(
      "control.enabled",
      "is on without the control user's password",
      "set TRIBUTARY_CONTROL_NATS_PASS (the hub's `control` user), or turn control off",
    );
  return { keys: SealingKeys.fromEnv(env), user, pass };
}
