import { fileURLToPath } from "node:url";
import { Type, type Static } from "@sinclair/typebox";
import { ConfigError, readJsonFile, validateConfig } from "@tributary/config";

/** tiers.json beside this package's src/ and dist/: the file the k6 script reads too. */
export const DEFAULT_TIERS_FILE = fileURLToPath(new URL("../tiers.json", import.meta.url));

const Thresholds = Type.Object(
  {
    errorRate: Type.Number({
      minimum: 0,
      maximum: 1,
      description: "largest share of events still refused after the sender's retries",
    }),
    ackP95Ms: Type.Number({ minimum: 1, description: "p95 of ack latency (ms), from the intended send time" }),
    ackP99Ms: Type.Number({ minimum: 1, description: "p99 of ack latency (ms)" }),
    e2eP99Ms: Type.Number({ minimum: 1, description: "p99 of received_at → loaded_at (ms)" }),
  },
  { additionalProperties: false },
);

export const TierSchema = Type.Object(
  {
    name: Type.String({ pattern: "^[A-Za-z0-9_.-]+$", description: "what --tier and TIER name" }),
    range: Type.String({ description: "the tier's range in words" }),
    rate: Type.Number({ exclusiveMinimum: 0, description: "events per second offered, open loop" }),
    durationSeconds: Type.Number({ exclusiveMinimum: 0 }),
    resendShare: Type.Number({
      minimum: 0,
      maximum: 0.5,
      description: "share of requests that resend an earlier event",
    }),
    batch: Type.Object(
      {
        share: Type.Number({ minimum: 0, maximum: 1, description: "share of events sent in batch requests" }),
        size: Type.Integer({
          minimum: 1,
          maximum: 1000,
          description: "events per batch request (the gateway takes at most 1000)",
        }),
      },
      { additionalProperties: false },
    ),
    thresholds: Thresholds,
    faultThresholds: Thresholds,
  },
  { additionalProperties: false },
);

export const TiersFileSchema = Type.Object(
  {
    $comment: Type.Optional(Type.String()),
    source: Type.String({ minLength: 1, description: "the source id the requests are signed for" }),
    eventMix: Type.Array(
      Type.Object(
        {
          type: Type.String({ minLength: 1 }),
          weight: Type.Number({ exclusiveMinimum: 0 }),
          bytes: Type.Integer({ minimum: 64, maximum: 262144, description: "approximate body size" }),
        },
        { additionalProperties: false },
      ),
      { minItems: 1 },
    ),
    tiers: Type.Array(TierSchema, { minItems: 1 }),
  },
  { additionalProperties: false },
);

export type Tier = Static<typeof TierSchema>;
export type Thresholds = Static<typeof Thresholds>;
export type TiersFile = Static<typeof TiersFileSchema>;

export function loadTiers(file: string = DEFAULT_TIERS_FILE): TiersFile {
  return validateConfig(TiersFileSchema, readJsonFile(file));
}

export function findTier(tiers: TiersFile, name: string): Tier {
  const tier = tiers.tiers.find((t) => t.name === name);
  if (!tier)
    throw new ConfigError(
      "--tier",
      `names no tier: ${JSON.stringify(name)}`,
      `use one of ${tiers.tiers.map((t) => t.name).join(", ")}`,
    );
  return tier;
}

/** Requests per second that carry `tier.rate` events per second (singles + batches). */
export function requestRate(tier: Pick<Tier, "rate" | "batch">): number {
  const batchEvents = tier.rate * tier.batch.share;
  return tier.rate - batchEvents + batchEvents / tier.batch.size;
}

/** The probability that a request is a batch, so that events/s averages `tier.rate`. */
export function batchProbability(tier: Pick<Tier, "rate" | "batch">): number {
  if (tier.batch.share === 0) return 0;
  return (tier.rate * tier.batch.share) / tier.batch.size / requestRate(tier);
}
