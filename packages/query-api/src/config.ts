import { readFileSync } from "node:fs";
import { Type, type Static } from "@sinclair/typebox";
import { ConfigError } from "@tributary/config";
import type { ApiToken } from "./auth.js";
import { DEFAULT_API_RATE_LIMIT } from "./auth-hook.js";

/** A token in a config file: the secret itself lives in an environment variable or a file. */
export const ApiTokenRefSchema = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 64, description: "a name for logs and rate limiting" }),
    env: Type.Optional(Type.String({ minLength: 1, description: "environment variable holding the token" })),
    file: Type.Optional(Type.String({ minLength: 1, description: "file holding the token" })),
    sources: Type.Array(Type.String({ minLength: 1 }), {
      minItems: 1,
      description: 'sources the token may read; ["*"] for all',
    }),
  },
  { additionalProperties: false },
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
    if ((ref.env === undefined) === (ref.file === undefined))
      throw new ConfigError(
        at,
        "needs exactly one of env or file",
        "name the environment variable or the file that holds the token",
      );
    let token: string;
    if (ref.env !== undefined) {
      const value = env[ref.env];
      if (!value)
        throw new ConfigError(`${at}.env`, `environment variable ${ref.env} is not set`, `export ${ref.env}=<token>`);
      token = value;
    } else {
      try {
        token = readFileSync(ref.file!, "utf8").replace(/\r?\n$/, "");
      } catch (err) {
        throw new ConfigError(
          `${at}.file`,
          `cannot read ${ref.file}: ${(err as Error).message}`,
          "create the file with the token",
          { cause: err },
        );
      }
    }
    if (token.length < 16)
      throw new ConfigError(at, "token is shorter than 16 characters", "use a random token (openssl rand -hex 24)");
    return { id: ref.id, token, sources: ref.sources };
  });
}
