import { Type, type Static } from "@sinclair/typebox";

/** Defaults of a destination, with units. */
export const DEFAULT_DELIVERY_TIMEOUT_MS = 10_000; // 10 s for the whole request
export const DEFAULT_MAX_IN_FLIGHT = 16; // concurrent requests per destination (also pool connections)
export const DEFAULT_RETRY = {
  maxAttempts: 8,
  initialDelayMs: 1_000,
  maxDelayMs: 5 * 60_000,
  maxRetryAfterMs: 60 * 60_000,
} as const;
/**
 * The breaker (breaker.ts has the rule): open on 5 attempts in a row without an answer, on 20
 * failures in a row, or when at least half of at least 20 attempts in the last 10 s failed
 * (opossum's and resilience4j's threshold, opossum's window); probe after 5 s doubling to 60 s;
 * pause the destination after an hour of failing (longer than a deploy or a maintenance window,
 * which the breaker rides out and recovers from by itself; short enough that an operator hears of
 * a dead subscription within the hour).
 */
export const DEFAULT_BREAKER = {
  failuresToOpen: 5,
  failureRateToOpen: 0.5,
  minimumAttempts: 20,
  windowMs: 10_000,
  halfOpenAfterMs: 5_000,
  maxHalfOpenAfterMs: 60_000,
  pauseAfterMs: 60 * 60_000,
} as const;
/**
 * Sandbox limits. Both time limits are CPU time on the destination's sandbox worker thread (not
 * wall-clock time, which a busy machine stretches): the transform's is short; the filter's is
 * longer because it stops runaway expressions, it is not a latency budget.
 */
export const DEFAULT_SANDBOX = { timeoutMs: 50, filterTimeoutMs: 1_000, memoryBytes: 16 * 1024 * 1024 } as const;
/** The most memory a transform's QuickJS runtime may have (its WASM memory never shrinks). */
export const MAX_SANDBOX_MEMORY_BYTES = 64 * 1024 * 1024;
/** Bytes of an error response kept in the DLQ entry and the delivery log. */
export const RESPONSE_SNIPPET_BYTES = 512;

const SecretRef = Type.Object(
  {
    id: Type.String({ minLength: 1, description: "names the secret in logs" }),
    env: Type.Optional(Type.String({ minLength: 1, description: "environment variable holding whsec_…" })),
    file: Type.Optional(Type.String({ minLength: 1, description: "file holding whsec_…" })),
  },
  { additionalProperties: false },
);

/**
 * One destination. Secrets are references (env or file) resolved by the app's config loader; the
 * library receives decoded signing keys.
 */
export const DestinationSchema = Type.Object(
  {
    name: Type.String({
      pattern: "^[a-z][a-z0-9_-]{0,31}$",
      description: "lower-case id: the consumer is delivery-<name>, the DLQ subject delivery-dlq.<name>",
    }),
    url: Type.String({ pattern: "^https?://[^\\s]+$", description: "the http(s) URL events are POSTed to" }),
    allowPrivate: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description:
        "non-public addresses this destination may reach (loopback, RFC 1918, link-local, CGNAT…: refused otherwise, checked at every connect): CIDRs (10.20.0.0/16, fd00::/8) or host names (any address the name resolves to)",
    }),
    sources: Type.Array(Type.String({ pattern: "^[a-z][a-z0-9_-]{0,31}$" }), {
      default: [],
      description: "source ids taken; empty takes every source",
    }),
    types: Type.Array(Type.String({ pattern: "^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$" }), {
      default: [],
      description: "event types taken (exact, e.g. link.clicked); empty takes every type",
    }),
    filter: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "JSONata expression over {key, source, type, region, receivedAt, enrichment, body}; truthy delivers (e.g. `enrichment.is_bot = false and enrichment.geo_country = 'US'`)",
      }),
    ),
    enriched: Type.Boolean({
      default: false,
      description:
        "deliver each event with its enrichment (geo, device, bot and suspicion verdicts, uniqueness…) as an `enrichment` member of the body; the filter and the transform see it either way",
    }),
    transform: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "JavaScript defining function transform(event) returning the JSON to send (null skips); runs in QuickJS with time and memory limits",
      }),
    ),
    headers: Type.Record(Type.String(), Type.String(), {
      default: {},
      description: "static headers added to every request (no credentials: use secretHeaders)",
    }),
    secretHeaders: Type.Record(
      Type.String({ pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$" }),
      Type.Object(
        {
          env: Type.Optional(
            Type.String({ minLength: 1, description: "environment variable holding the header's value" }),
          ),
          file: Type.Optional(Type.String({ minLength: 1, description: "file holding the header's value" })),
        },
        { additionalProperties: false },
      ),
      {
        default: {},
        description:
          "headers whose values are credentials (an API key, authorization), read from env or a file by the app's config loader",
      },
    ),
    timeoutMs: Type.Integer({ minimum: 1, default: DEFAULT_DELIVERY_TIMEOUT_MS, description: "per request, ms" }),
    maxInFlight: Type.Integer({
      minimum: 1,
      maximum: 1024,
      default: DEFAULT_MAX_IN_FLIGHT,
      description: "concurrent requests (and keep-alive connections) to this destination",
    }),
    rateLimit: Type.Optional(
      Type.Object(
        {
          perSecond: Type.Number({ exclusiveMinimum: 0, description: "requests per second at most" }),
          burst: Type.Optional(
            Type.Integer({ minimum: 1, description: "requests allowed at once after idling; default perSecond" }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    retry: Type.Object(
      {
        maxAttempts: Type.Integer({
          minimum: 1,
          default: DEFAULT_RETRY.maxAttempts,
          description: "attempts before the event goes to the DLQ",
        }),
        initialDelayMs: Type.Integer({
          minimum: 1,
          default: DEFAULT_RETRY.initialDelayMs,
          description: "backoff after the first failure, doubling, with full jitter",
        }),
        maxDelayMs: Type.Integer({ minimum: 1, default: DEFAULT_RETRY.maxDelayMs }),
        maxRetryAfterMs: Type.Integer({
          minimum: 0,
          default: DEFAULT_RETRY.maxRetryAfterMs,
          description: "cap on a destination's Retry-After",
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    breaker: Type.Object(
      {
        failuresToOpen: Type.Integer({
          minimum: 1,
          default: DEFAULT_BREAKER.failuresToOpen,
          description:
            "attempts in a row without an HTTP answer (refused, reset, timed out) that open the circuit at once: a stopped destination",
        }),
        failureRateToOpen: Type.Number({
          exclusiveMinimum: 0,
          maximum: 1,
          default: DEFAULT_BREAKER.failureRateToOpen,
          description:
            "share of retryable failures (no answer, 408, 429, 5xx) among the attempts of the last windowMs that opens the circuit",
        }),
        minimumAttempts: Type.Integer({
          minimum: 1,
          default: DEFAULT_BREAKER.minimumAttempts,
          description:
            "attempts the window must hold before its failure rate counts; as many retryable failures in a row open the circuit too",
        }),
        windowMs: Type.Integer({
          minimum: 100,
          default: DEFAULT_BREAKER.windowMs,
          description: "length of the sliding window the failure rate is judged over, ms (10 buckets)",
        }),
        halfOpenAfterMs: Type.Integer({
          minimum: 1,
          default: DEFAULT_BREAKER.halfOpenAfterMs,
          description: "first wait before a probe, doubling while probes fail",
        }),
        maxHalfOpenAfterMs: Type.Integer({ minimum: 1, default: DEFAULT_BREAKER.maxHalfOpenAfterMs }),
        pauseAfterMs: Type.Integer({
          minimum: 0,
          default: DEFAULT_BREAKER.pauseAfterMs,
          description:
            "how long the circuit may stay open (or half-open) before the destination is paused until resumed, ms; 0 never pauses",
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    signing: Type.Object(
      {
        type: Type.Unsafe<"standard-webhooks" | "none">({
          type: "string",
          enum: ["standard-webhooks", "none"],
          default: "standard-webhooks",
        }),
        secrets: Type.Array(SecretRef, {
          default: [],
          maxItems: 4,
          description: "whsec_ secrets; every one signs (rotation)",
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    sandbox: Type.Object(
      {
        timeoutMs: Type.Integer({
          minimum: 1,
          maximum: 10_000,
          default: DEFAULT_SANDBOX.timeoutMs,
          description: "CPU time limit of the transform per event, ms",
        }),
        filterTimeoutMs: Type.Integer({
          minimum: 1,
          maximum: 60_000,
          default: DEFAULT_SANDBOX.filterTimeoutMs,
          description: "CPU time limit of the filter per event, ms",
        }),
        memoryBytes: Type.Integer({
          minimum: 1024 * 1024,
          maximum: MAX_SANDBOX_MEMORY_BYTES,
          default: DEFAULT_SANDBOX.memoryBytes,
          description: "memory limit of the transform's QuickJS runtime",
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    start: Type.Unsafe<"new" | "all">({
      type: "string",
      enum: ["new", "all"],
      default: "new",
      description: "where a new destination starts in the hub stream: new events only, or all retained",
    }),
  },
  { additionalProperties: false },
);

export type DestinationConfig = Static<typeof DestinationSchema>;
