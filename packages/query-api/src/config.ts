import { Type, type Static } from "@sinclair/typebox";
import { ConfigError, resolveSecret, SecretRef } from "@tributary/config";
import type { ApiToken } from "./auth.js";
import { DEFAULT_API_RATE_LIMIT } from "./auth-hook.js";

/** A token in a config file: the secret itself lives in an environment variable or a file. */
export const ApiTokenRefSchema = Type.Composite(
  [
    SecretRef,
    Type.Object({
      id: Type.String({ minLength: 1, maxLength: 64, description: "a name for logs and rate limiting" }),
      sources: Type.Array(Type.String({ minLength: 1 }), {
        minItems: 1,
        description: 'sources the token may read; ["*"] for all',
      }),
      scope: Type.Optional(
        Type.Union([Type.Literal("read"), Type.Literal("write"), Type.Literal("admin")], {
          description:
            "read (default): events, analytics, sources and subscriptions; write: also change subscriptions, test and resend; admin: also change sources and their secrets, read the audit log",
        }),
      ),
    }),
  ],
  { additionalProperties: false, description: "give the token an id, its sources and exactly one of env or file" },
);
export type ApiTokenRef = Static<typeof ApiTokenRefSchema>;

export const RateLimitSchema = Type.Object(
  {
    max: Type.Integer({
      minimum: 1,
      default: DEFAULT_API_RATE_LIMIT.max,
      description: "requests per window per token",
    }),
    windowMs: Type.Integer({ minimum: 1000, default: DEFAULT_API_RATE_LIMIT.windowMs }),
  },
  { additionalProperties: false, default: {} },
);

/** Reads each token's secret; `field` prefixes the config path in errors (e.g. `api.tokens`). */
export function resolveApiTokens(refs: readonly ApiTokenRef[], env: NodeJS.ProcessEnv, field = "tokens"): ApiToken[] {
  const ids = new Set<string>();
  return refs.map((ref, i) => {
    const at = `${field}[${i}]`;
    if (ids.has(ref.id))
      throw new ConfigError(`${at}.id`, `duplicate token id ${ref.id}`, "give every token its own id");
    ids.add(ref.id);
    const token = resolveSecret(at, ref, env, { what: "token" });
    if (token.length < 16)
      throw new ConfigError(at, "token is shorter than 16 characters", "use a random token (openssl rand -hex 24)");
    return { id: ref.id, token, sources: ref.sources, scope: ref.scope ?? "read" };
  });
}
