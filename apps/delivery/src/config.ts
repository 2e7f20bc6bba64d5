import { Type, type Static } from "@sinclair/typebox";
import { ConfigError, envString, loadConfig, resolveSecret, StringEnum, serviceEnvOverrides } from "@tributary/config";
import { DestinationSchema, type DestinationConfig } from "@tributary/delivery";
import { standardWebhooksSigningKey, type SigningKey } from "@tributary/verify";

export const DEFAULT_HTTP_PORT = 8091;
/** Longer than a destination's timeout (default 10 s), so a request in flight is not redelivered meanwhile. */
export const DEFAULT_DELIVERY_ACK_WAIT_MS = 60_000;

export const DeliveryAppConfigSchema = Type.Object(
  {
    host: Type.String({ default: "127.0.0.1", description: "address of the stats/admin endpoint; env TRIBUTARY_HOST" }),
    port: Type.Integer({
      minimum: 0,
      maximum: 65535,
      default: DEFAULT_HTTP_PORT,
      description: "port of the stats/admin endpoint; env TRIBUTARY_PORT",
    }),
    logLevel: StringEnum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], { default: "info" }),
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
      description:
        "create the DELIVERY_DLQ, DELIVERY_REPLAY and DELIVERIES streams at start; false when operators provision them (least-privilege users)",
    }),
    ackWaitMs: Type.Integer({
      minimum: 1000,
      default: DEFAULT_DELIVERY_ACK_WAIT_MS,
      description: "redelivery deadline of an event in hand; must exceed every destination's timeoutMs",
    }),
    adminToken: Type.Optional(
      Type.Object(
        {
          env: Type.String({
            minLength: 1,
            description: "environment variable holding the bearer token of the admin (replay) endpoints",
          }),
        },
        { additionalProperties: false },
      ),
    ),
    allowPrivate: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description:
        "non-public addresses every destination may reach (added to each destination's own allowPrivate): CIDRs or host names; everything else that is not public is refused at connect time",
    }),
    destinations: Type.Array(DestinationSchema, {
      default: [],
      description: "where events go; see packages/delivery/README.md",
    }),
  },
  { additionalProperties: false },
);

export type DeliveryAppConfig = Static<typeof DeliveryAppConfigSchema>;

export interface LoadedDeliveryConfig {
  config: DeliveryAppConfig;
  /** Decoded signing keys per destination name. */
  signingKeys: Map<string, SigningKey[]>;
  adminToken: string | undefined;
}

function signingKeysOf(dest: DestinationConfig, index: number, env: NodeJS.ProcessEnv): SigningKey[] {
  const field = `destinations[${index}].signing`;
  if (dest.signing.type === "none") return [];
  if (dest.signing.secrets.length === 0)
    throw new ConfigError(
      `${field}.secrets`,
      "is empty but signing.type is standard-webhooks",
      'add { "id": "…", "env": "…" } holding a whsec_ secret, or set signing.type to "none"',
    );
  return dest.signing.secrets.map((ref, i) => {
    const text = resolveSecret(`${field}.secrets[${i}]`, ref, env, { what: "signing secret", example: "whsec_…" });
    try {
      return standardWebhooksSigningKey(text);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      throw new ConfigError(`${field}.secrets[${i}]`, err.problem, "give the secret as whsec_<base64>", { cause: err });
    }
  });
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "::1", "localhost"]);

export function loadDeliveryConfig(
  env: NodeJS.ProcessEnv = process.env,
  file = envString(env, "TRIBUTARY_CONFIG"),
): LoadedDeliveryConfig {
  const config = loadConfig(DeliveryAppConfigSchema, {
    file,
    overrides: {
      ...serviceEnvOverrides(env),
    },
  });
  const names = new Set<string>();
  const signingKeys = new Map<string, SigningKey[]>();
  config.destinations.forEach((dest, i) => {
    if (names.has(dest.name))
      throw new ConfigError(
        `destinations[${i}].name`,
        `duplicate destination ${dest.name}`,
        "give every destination its own name",
      );
    names.add(dest.name);
    // The process-wide allow-list is each destination's too (the local system allows loopback so).
    dest.allowPrivate = [...new Set([...config.allowPrivate, ...dest.allowPrivate])];
    if (dest.timeoutMs * 2 > config.ackWaitMs)
      throw new ConfigError(
        `destinations[${i}].timeoutMs`,
        `${dest.timeoutMs} ms is more than half of ackWaitMs (${config.ackWaitMs} ms)`,
        "lower the timeout or raise ackWaitMs",
      );
    signingKeys.set(dest.name, signingKeysOf(dest, i, env));
    // Credential headers resolved here, so config files (and the Helm chart's ConfigMap) hold none.
    for (const [header, ref] of Object.entries(dest.secretHeaders)) {
      if (Object.keys(dest.headers).some((h) => h.toLowerCase() === header.toLowerCase())) {
        throw new ConfigError(
          `destinations[${i}].secretHeaders.${header}`,
          `is also in headers`,
          "keep the header in one of headers and secretHeaders",
        );
      }
      dest.headers[header] = resolveSecret(`destinations[${i}].secretHeaders.${header}`, ref, env, {
        what: "header's value",
        example: "<the header's value>",
      });
    }
  });
  const adminToken = config.adminToken
    ? resolveSecret("adminToken", config.adminToken, env, {
        what: "admin token",
        example: "<a long random token>",
      })
    : undefined;
  // The admin API lists dead letters (response snippets included) and replays ranges: open only on loopback.
  if (adminToken === undefined && !LOOPBACK_HOSTS.has(config.host)) {
    throw new ConfigError(
      "adminToken",
      `the admin API would be open on ${config.host} without a token`,
      "set adminToken.env to a variable holding a long random token, or listen on 127.0.0.1",
    );
  }
  return { config, signingKeys, adminToken };
}
