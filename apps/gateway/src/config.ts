import { Type, type Static } from "@sinclair/typebox";
import {
  BATCH_MAX_BODY_BYTES_LIMIT,
  DEFAULT_MAX_BODY_BYTES,
  HEADER_ALLOWANCE_BYTES,
  MAX_BODY_BYTES_LIMIT,
  secretPlace,
  SourceSettingsSchema,
  type SourceRecord,
} from "@tributary/control";
import {
  ConfigError,
  envInt,
  envString,
  loadConfig,
  resolveSecret,
  SecretRef,
  serviceEnvOverrides,
  StringEnum,
  validateConfig,
} from "@tributary/config";
import {
  ID_PATTERN,
  DEFAULT_DUPLICATE_WINDOW_MS,
  DEFAULT_REGION_MAX_AGE_MS,
  DEFAULT_REGION_MAX_BYTES,
  DEFAULT_PUBLISH_TIMEOUT_MS,
} from "@tributary/streams";
import {
  createScheme,
  decodeSecret,
  type SchemeConfig as VerifySchemeConfig,
  type SchemeType,
  type SignatureScheme,
  type SourceSecret,
} from "@tributary/verify";

export const DEFAULT_PORT = 8080;
export const DEFAULT_HOST = "127.0.0.1";
/**
 * The operations port (/metrics, /v1/stats, the probes): apart from the ingest port, so what the
 * internet reaches carries no counters, source or secret ids, or capacity signals. 9464 is the
 * port OpenTelemetry's Prometheus exporters use; loopback unless configured (a pod's address for
 * an in-cluster Prometheus, never published by the Service).
 */
export const DEFAULT_OPS_PORT = 9464;
export const DEFAULT_OPS_HOST = "127.0.0.1";
export { BATCH_MAX_BODY_BYTES_LIMIT, DEFAULT_MAX_BODY_BYTES, HEADER_ALLOWANCE_BYTES, MAX_BODY_BYTES_LIMIT };
export const DEFAULT_RETRY_AFTER_SECONDS = 2;

/**
 * Events awaiting their PubAck in this process. At ~30k PubAcks/s (file store, default fsync) this
 * is ~0.3 s of queue; the admission check also refuses when the queue would take longer than half
 * the publish timeout at the measured ack rate, so a slow stream answers 503 overloaded, not a
 * timed-out buffer_unavailable.
 */
export const DEFAULT_MAX_IN_FLIGHT_PUBLISHES = 8192;
/** Mean event-loop delay over a sample (under-pressure) above which requests are shed. */
export const DEFAULT_MAX_EVENT_LOOP_DELAY_MS = 200;
/** Share of V8's heap limit above which requests are shed (when maxHeapUsedBytes is not set). */
export const DEFAULT_MAX_HEAP_USED_RATIO = 0.85;
/** How often the regional stream's fill level (bytes vs max_bytes) is read. */
export const DEFAULT_STREAM_CHECK_INTERVAL_MS = 1000; // 1 second
/** Fill level at which /readyz turns false, so a load balancer moves traffic away in time. */
export const DEFAULT_NEARLY_FULL_RATIO = 0.9;
/**
 * The ingest server's limits. A request must arrive whole within requestTimeoutMs (a body trickled
 * in is cut off with 408: Fastify's default leaves it unbounded, holding its buffer and connection
 * for as long as the sender likes). Keep-alive outlasts the 60 s idle timeout of common load
 * balancers, as Fastify's own 72 s does, so the balancer closes idle connections first; the
 * connection timeout (no traffic either way) outlasts keep-alive and a publish awaiting its PubAck.
 */
export const DEFAULT_HTTP_LIMITS = Object.freeze({
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 72_000,
  connectionTimeoutMs: 120_000,
  maxConnections: 10_000,
});

/** Upper bound of a computed Retry-After (a full stream may take days to drain). */
export const DEFAULT_MAX_RETRY_AFTER_SECONDS = 300; // 5 minutes
/** Items per batch request. */
export const DEFAULT_BATCH_MAX_ITEMS = 1000;
/**
 * Bytes per batch request (each item also obeys its source's maxBodyBytes). Batches are read and
 * hashed whole before the signature is known to be good, so the default stays small: 1000 typical
 * events; a source that needs more says so.
 */
export const DEFAULT_BATCH_MAX_BODY_BYTES = 1024 * 1024; // 1 MiB

const SourceSecretRef = Type.Composite(
  [
    SecretRef,
    Type.Object({
      id: Type.String({
        minLength: 1,
        maxLength: 64,
        description: "name each secret (e.g. its creation month); it labels which secret verified a request",
      }),
      encoding: Type.Optional(
        StringEnum(["utf8", "base64", "hex"], {
          description:
            "how the secret's text encodes its bytes (default utf8; standard-webhooks and svix read their whsec_/whpk_ form)",
        }),
      ),
    }),
  ],
  { additionalProperties: false, description: "give the secret an id and exactly one of env or file" },
);

const SourceConfig = Type.Composite(
  [
    SourceSettingsSchema,
    Type.Object({
      secrets: Type.Array(SourceSecretRef, {
        minItems: 1,
        maxItems: 8,
        description: "list 1 to 8 active secrets; several at once let you rotate without downtime",
      }),
    }),
  ],
  { additionalProperties: false },
);

export const GatewayConfigSchema = Type.Object(
  {
    region: Type.String({
      pattern: ID_PATTERN.source,
      description: "set the region id (lower-case, e.g. us or eu-west); env TRIBUTARY_REGION",
    }),
    host: Type.String({
      default: DEFAULT_HOST,
      description: "address to listen on; 0.0.0.0 in containers; env TRIBUTARY_HOST",
    }),
    port: Type.Integer({
      minimum: 0,
      maximum: 65535,
      default: DEFAULT_PORT,
      description: "TCP port; env TRIBUTARY_PORT",
    }),
    opsHost: Type.String({
      default: DEFAULT_OPS_HOST,
      description:
        "address of the operations port (/metrics, /v1/stats, probes): loopback, or the pod's own address for Prometheus; env TRIBUTARY_OPS_HOST",
    }),
    opsPort: Type.Integer({
      minimum: 0,
      maximum: 65535,
      default: DEFAULT_OPS_PORT,
      description:
        "TCP port of the operations server (0: any free port); never the ingest port; env TRIBUTARY_OPS_PORT",
    }),
    logLevel: StringEnum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], { default: "info" }),
    retryAfterSeconds: Type.Integer({ minimum: 1, maximum: 3600, default: DEFAULT_RETRY_AFTER_SECONDS }),
    http: Type.Object(
      {
        headersTimeoutMs: Type.Integer({
          minimum: 1000,
          maximum: 600_000,
          default: DEFAULT_HTTP_LIMITS.headersTimeoutMs,
          description: "time to send a request's headers; at most requestTimeoutMs",
        }),
        requestTimeoutMs: Type.Integer({
          minimum: 1000,
          maximum: 600_000,
          default: DEFAULT_HTTP_LIMITS.requestTimeoutMs,
          description: "time to send a whole request, headers and body; a body trickled in is cut off with 408",
        }),
        keepAliveTimeoutMs: Type.Integer({
          minimum: 1000,
          maximum: 600_000,
          default: DEFAULT_HTTP_LIMITS.keepAliveTimeoutMs,
          description:
            "an idle keep-alive connection is closed after this; longer than the load balancer's idle timeout",
        }),
        connectionTimeoutMs: Type.Integer({
          minimum: 1000,
          maximum: 3_600_000,
          default: DEFAULT_HTTP_LIMITS.connectionTimeoutMs,
          description: "a connection without traffic either way is closed after this; longer than keep-alive",
        }),
        maxConnections: Type.Integer({
          minimum: 1,
          maximum: 1_000_000,
          default: DEFAULT_HTTP_LIMITS.maxConnections,
          description: "connections open at once; more are refused at accept",
        }),
      },
      { additionalProperties: false, default: {}, description: "the ingest server's timeouts and connection cap" },
    ),
    nats: Type.Object(
      {
        servers: Type.Array(Type.String({ pattern: "^(nats|tls)://" }), {
          minItems: 1,
          default: ["nats://127.0.0.1:4222"],
          description: "NATS URLs of this region; env TRIBUTARY_NATS_URL (comma-separated)",
        }),
        user: Type.Optional(Type.String()),
        pass: Type.Optional(Type.String()),
        publishTimeoutMs: Type.Integer({
          minimum: 100,
          maximum: 60_000,
          default: DEFAULT_PUBLISH_TIMEOUT_MS,
          description: "how long to wait for the stream's PubAck before answering 503",
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    stream: Type.Object(
      {
        manage: Type.Boolean({
          default: true,
          description: "create/update the regional stream at start; false when operators manage it",
        }),
        maxBytes: Type.Integer({ minimum: 1024, default: DEFAULT_REGION_MAX_BYTES }),
        maxAgeSeconds: Type.Integer({ minimum: 1, default: DEFAULT_REGION_MAX_AGE_MS / 1000 }),
        duplicateWindowSeconds: Type.Integer({ minimum: 1, default: DEFAULT_DUPLICATE_WINDOW_MS / 1000 }),
        replicas: Type.Integer({ minimum: 1, maximum: 5, default: 1 }),
      },
      { additionalProperties: false, default: {} },
    ),
    admission: Type.Object(
      {
        maxInFlightPublishes: Type.Integer({
          minimum: 1,
          maximum: 1_000_000,
          default: DEFAULT_MAX_IN_FLIGHT_PUBLISHES,
          description: "events awaiting their PubAck per process; beyond it 503 overloaded",
        }),
        maxEventLoopDelayMs: Type.Integer({
          minimum: 0,
          maximum: 60_000,
          default: DEFAULT_MAX_EVENT_LOOP_DELAY_MS,
          description:
            "mean event-loop delay (ms) above which ingest is shed with 503 overloaded; 0 turns the check off",
        }),
        maxHeapUsedBytes: Type.Optional(
          Type.Integer({
            minimum: 0,
            description: `heap bytes above which ingest is shed; default ${DEFAULT_MAX_HEAP_USED_RATIO * 100}% of V8's heap limit; 0 turns the check off`,
          }),
        ),
        streamCheckIntervalMs: Type.Integer({
          minimum: 100,
          maximum: 60_000,
          default: DEFAULT_STREAM_CHECK_INTERVAL_MS,
          description: "how often (ms) the regional stream's fill level is read",
        }),
        nearlyFullRatio: Type.Number({
          exclusiveMinimum: 0,
          maximum: 1,
          default: DEFAULT_NEARLY_FULL_RATIO,
          description: "stream fill (bytes / max_bytes) at which /readyz turns false",
        }),
        maxRetryAfterSeconds: Type.Integer({
          minimum: 1,
          maximum: 86_400,
          default: DEFAULT_MAX_RETRY_AFTER_SECONDS,
          description: "upper bound of a computed Retry-After, in seconds",
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    batch: Type.Object(
      {
        maxItems: Type.Integer({
          minimum: 1,
          maximum: 100_000,
          default: DEFAULT_BATCH_MAX_ITEMS,
          description: "events per batch request, for sources that take batches and set none",
        }),
        maxBodyBytes: Type.Integer({
          minimum: 1024,
          maximum: BATCH_MAX_BODY_BYTES_LIMIT,
          default: DEFAULT_BATCH_MAX_BODY_BYTES,
          description: `bytes per batch request (at most ${BATCH_MAX_BODY_BYTES_LIMIT}), for sources that take batches and set none`,
        }),
      },
      { additionalProperties: false, default: {}, description: "defaults of the sources that set batch" },
    ),
    sources: Type.Record(Type.String(), SourceConfig, {
      default: {},
      description: "configure at least one source here, or turn control on and manage them through the management API",
    }),
    control: Type.Object(
      {
        enabled: Type.Boolean({
          default: false,
          description:
            "also take sources from the region's mirror of the control bucket, watched: changes apply without a restart (a record wins over a file source of the same id); needs TRIBUTARY_SEALING_KEYS (or _FILE)",
        }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);

export type GatewayConfigInput = Static<typeof GatewayConfigSchema>;
type SourceConfigInput = Static<typeof SourceConfig>;

/** Providers whose bodies carry no event type, and the header that names it. */
const DEFAULT_EVENT_TYPE_HEADERS: Record<string, string> = { github: "x-github-event", shopify: "x-shopify-topic" };

/** A source ready for the hot path: scheme built and secrets decoded once at start. */
export interface ResolvedSource {
  id: string;
  scheme: SignatureScheme;
  secrets: SourceSecret[];
  toleranceSeconds: number;
  idField: string | undefined;
  /** Lower-case header that names the event type when the body does not. */
  eventTypeHeader: string | undefined;
  strict: boolean;
  maxBodyBytes: number;
  /** Set when the source takes batches on /batch (off by default: providers never batch). */
  batch: BatchLimits | undefined;
  rateLimit: { max: number; windowMs: number } | undefined;
}

export interface BatchLimits {
  maxItems: number;
  maxBodyBytes: number;
}

export interface GatewayConfig extends Omit<GatewayConfigInput, "sources"> {
  sources: Map<string, ResolvedSource>;
}

function readSecret(
  field: string,
  ref: Static<typeof SourceSecretRef>,
  type: SchemeType,
  env: NodeJS.ProcessEnv,
): SourceSecret {
  const text = resolveSecret(field, ref, env);
  if (ref.encoding !== undefined && (type === "standard-webhooks" || type === "svix")) {
    throw new ConfigError(
      `${field}.encoding`,
      `does not apply to scheme ${type}`,
      "give the secret as the provider shows it (whsec_… or whpk_…) and remove encoding",
    );
  }
  let decoded;
  try {
    decoded =
      ref.encoding === undefined
        ? decodeSecret(text, type)
        : { key: Buffer.from(text, ref.encoding), kind: "hmac" as const };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new ConfigError(field, err.problem, err.fix || "check the secret's text and the source's scheme", {
      cause: err,
    });
  }
  if (decoded.kind === "hmac" && decoded.key.length < 16)
    throw new ConfigError(field, "secret is shorter than 16 bytes", "use a random secret of at least 32 bytes");
  return { id: ref.id, key: decoded.key, kind: decoded.kind };
}

function resolveSource(
  id: string,
  input: SourceConfigInput,
  batchDefaults: BatchLimits,
  env: NodeJS.ProcessEnv,
): ResolvedSource {
  const field = `sources.${id}`;
  if (!ID_PATTERN.test(id))
    throw new ConfigError(
      field,
      `source id must match ${ID_PATTERN}`,
      "rename the source (lower-case letters, digits, _ and -)",
    );
  let scheme: SignatureScheme;
  try {
    // createScheme checks the options of each type at run time (and names the bad field).
    scheme = createScheme(input.scheme as VerifySchemeConfig);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new ConfigError(
      `${field}.scheme.${err.field}`,
      err.problem,
      err.fix || "see the scheme list in docs/sources.md",
      {
        cause: err,
      },
    );
  }
  const ids = new Set<string>();
  const secrets = input.secrets.map((ref, i) => {
    if (ids.has(ref.id))
      throw new ConfigError(
        `${field}.secrets[${i}].id`,
        `duplicate secret id ${ref.id}`,
        "give every secret its own id",
      );
    ids.add(ref.id);
    return readSecret(`${field}.secrets[${i}]`, ref, (input.scheme.type ?? "webhook-hmac-sha256") as SchemeType, env);
  });
  return {
    id,
    scheme,
    secrets,
    toleranceSeconds: input.toleranceSeconds,
    eventTypeHeader: (input.eventTypeHeader === undefined
      ? DEFAULT_EVENT_TYPE_HEADERS[input.scheme.type ?? ""]
      : (input.eventTypeHeader ?? undefined)
    )?.toLowerCase(),
    // Schemes that key by a field of the (signed) body name it (Stripe's id, the deep-link
    // envelope's event_id): key by it unless the source says otherwise.
    idField: input.idField ?? (scheme.deliveryIdSource.from === "body" ? scheme.deliveryIdSource.field : undefined),
    strict: input.strict,
    maxBodyBytes: input.maxBodyBytes,
    batch:
      input.batch === undefined || input.batch === false
        ? undefined
        : { ...batchDefaults, ...(input.batch === true ? {} : input.batch) },
    rateLimit: input.rateLimit
      ? { max: input.rateLimit.max, windowMs: input.rateLimit.windowSeconds * 1000 }
      : undefined,
  };
}

/** Resolves an already-shaped config object (tests and the local launcher build these directly). */
export function resolveGatewayConfig(input: unknown, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return finish(validateConfig(GatewayConfigSchema, input), env);
}

/**
 * NATS URLs end up in logs and in the errors NATS clients raise; a password inside one would be
 * printed with them. The login has its own settings (the password from env or a file), so a URL
 * with userinfo is refused, without echoing it.
 */
function checkNatsServers(servers: readonly string[]): void {
  servers.forEach((server, i) => {
    let url: URL | undefined;
    try {
      url = new URL(server);
    } catch {
      url = undefined;
    }
    if (url === undefined || url.username !== "" || url.password !== "")
      throw new ConfigError(
        `nats.servers[${i}]`,
        url === undefined ? "is not a URL" : "holds a user or password, which logs and errors would show",
        "give nats://host:port; the user goes in nats.user (TRIBUTARY_NATS_USER), the password in TRIBUTARY_NATS_PASS",
      );
  });
}

/**
 * A signed timestamp is accepted within ±toleranceSeconds, so one captured request can be replayed
 * for 2 × toleranceSeconds. Only while its first copy is inside the regional stream's duplicate
 * window is a replay answered as a duplicate with nothing stored, so the window must cover that
 * span. (Schemes that sign no timestamp have no such span: a replay keeps its key however late.)
 * `whose`: the configured window (`stream.duplicateWindowSeconds`) or the provisioned stream's.
 */
export function checkToleranceAgainstWindow(
  sources: Iterable<ResolvedSource>,
  duplicateWindowSeconds: number,
  whose: "configured" | "provisioned",
): void {
  for (const source of sources) {
    if (!source.scheme.signsTimestamp || 2 * source.toleranceSeconds <= duplicateWindowSeconds) continue;
    throw new ConfigError(
      `sources.${source.id}.toleranceSeconds`,
      `accepts a signed request for 2 × ${source.toleranceSeconds} s, longer than the ${whose} duplicate window of the regional stream (${duplicateWindowSeconds} s): a replay late in that span would be stored again`,
      `lower it to at most ${Math.floor(duplicateWindowSeconds / 2)}, or make the duplicate window (stream.duplicateWindowSeconds) at least ${2 * source.toleranceSeconds}`,
    );
  }
}

/** What Node and the publish path need of the server limits, beyond each value's own range. */
function checkHttpLimits(http: GatewayConfigInput["http"], publishTimeoutMs: number): void {
  if (http.headersTimeoutMs > http.requestTimeoutMs)
    throw new ConfigError(
      "http.headersTimeoutMs",
      `is longer than http.requestTimeoutMs (${http.requestTimeoutMs}), which Node refuses`,
      "keep it at most requestTimeoutMs",
    );
  const floor = Math.max(http.keepAliveTimeoutMs, publishTimeoutMs);
  if (http.connectionTimeoutMs <= floor)
    throw new ConfigError(
      "http.connectionTimeoutMs",
      `must outlast http.keepAliveTimeoutMs and nats.publishTimeoutMs (${floor} ms): an idle keep-alive connection, or one awaiting its PubAck, is silent that long`,
      `raise it above ${floor}`,
    );
}

function finish(input: GatewayConfigInput, env: NodeJS.ProcessEnv): GatewayConfig {
  checkNatsServers(input.nats.servers);
  if (input.opsPort !== 0 && input.opsPort === input.port)
    throw new ConfigError(
      "opsPort",
      `is the ingest port (${input.port}): /metrics and /v1/stats would be served to every sender`,
      "give the operations server a port of its own (default 9464)",
    );
  checkHttpLimits(input.http, input.nats.publishTimeoutMs);
  const entries = Object.entries(input.sources);
  if (entries.length === 0 && !input.control.enabled)
    throw new ConfigError(
      "sources",
      "no source is configured",
      "add at least one source under `sources`, or turn `control.enabled` on to manage them at runtime",
    );
  const sources = new Map(entries.map(([id, source]) => [id, resolveSource(id, source, input.batch, env)]));
  checkToleranceAgainstWindow(sources.values(), input.stream.duplicateWindowSeconds, "configured");
  return { ...input, sources };
}

/**
 * The gateway's config: the JSON file named by TRIBUTARY_CONFIG (or `--config`), then env
 * overrides. Secrets are read here, once, from env or files.
 */
export function loadGatewayConfig(
  env: NodeJS.ProcessEnv = process.env,
  file = envString(env, "TRIBUTARY_CONFIG"),
): GatewayConfig {
  const input = loadConfig(GatewayConfigSchema, {
    file,
    overrides: {
      ...serviceEnvOverrides(env),
      region: envString(env, "TRIBUTARY_REGION"),
      opsHost: envString(env, "TRIBUTARY_OPS_HOST"),
      opsPort: envInt(env, "TRIBUTARY_OPS_PORT"),
    },
  });
  return finish(input, env);
}

/**
 * A source from the control bucket, resolved exactly as a file source is: its settings validated
 * against the same schema, its sealed secrets opened (`open`) and read like env references.
 * Throws a ConfigError naming the field when the record is not a valid source.
 */
export function resolveSourceRecord(
  id: string,
  record: SourceRecord,
  batchDefaults: BatchLimits,
  open: (sealed: string, place: string) => string,
): ResolvedSource {
  const env: Record<string, string> = {};
  const secrets = record.secrets.map((secret, i) => {
    env[`SEALED_${i}`] = open(secret.sealed, secretPlace("sources", id, secret.id));
    return { id: secret.id, env: `SEALED_${i}`, ...(secret.encoding ? { encoding: secret.encoding } : {}) };
  });
  const { secrets: _sealed, createdAt: _c, updatedAt: _u, managedBy: _m, ...settings } = record;
  const input = validateConfig(SourceConfig, { ...settings, secrets });
  return resolveSource(id, input, batchDefaults, env);
}
