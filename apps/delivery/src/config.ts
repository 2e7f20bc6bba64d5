import { Type, type Static } from "@sinclair/typebox";
import { ConfigError, envString, loadConfig, resolveSecret, StringEnum, serviceEnvOverrides } from "@tributary/config";
import { DestinationSchema, type DestinationConfig } from "@tributary/delivery";
import { isLoopbackHost } from "@tributary/runtime";
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
            description:
              "environment variable holding the bearer token (at least 16 characters) of /v1/stats, /metrics and the admin (DLQ, replay) endpoints",
          }),
        },
        { additionalProperties: false },
      ),
    ),
    adminLoopback: Type.Boolean({
      default: false,
      description:
        "local development only: token-less callers at exactly 127.0.0.1 or ::1 pass the admin guard; needs a loopback host (`tributary up` sets it)",
    }),
    allowPrivate: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description:
        "non-public addresses every destination may reach (added to each destination's own allowPrivate): CIDRs or host names; everything else that is not public is refused at connect time",
    }),
    control: Type.Object(
      {
        enabled: Type.Boolean({
          default: false,
          description:
            "also deliver to the control bucket's subscriptions, watched: created, changed, paused and deleted through the management API without a restart; needs TRIBUTARY_SEALING_KEYS (or _FILE) and a hub user with managedDeliveryPermissions",
        }),
      },
      { additionalProperties: false, default: {} },
    ),
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
  return { config, signingKeys, adminToken: adminTokenOf(config, env) };
}

/**
 * The admin token, at least 16 characters; undefined leaves the admin API, /v1/stats and
 * /metrics answering nobody. `adminLoopback` lets token-less loopback callers in on a developer's
 * machine; listening beyond loopback, it would let in whatever forwards over loopback in the pod
 * (a proxy sidecar, a port-forward): refused at start.
 */
function adminTokenOf(config: DeliveryAppConfig, env: NodeJS.ProcessEnv): string | undefined {
  if (config.adminLoopback && !isLoopbackHost(config.host))
    throw new ConfigError(
      "adminLoopback",
      `is on while the delivery process listens on ${config.host}`,
      "listen on 127.0.0.1 (host), or turn it off and set adminToken",
    );
  if (config.adminToken === undefined) return undefined;
  const token = resolveSecret("adminToken", config.adminToken, env, {
    what: "admin token",
    example: "<a long random token>",
  });
  if (token.length < 16)
    throw new ConfigError(
      "adminToken",
      "is shorter than 16 characters",
      "use a long random token, e.g. `openssl rand -hex 24`",
    );
  return token;
}
