import { Type, type Static } from "@sinclair/typebox";
import { envString, loadConfig, StringEnum, serviceEnvOverrides } from "@tributary/config";
import { ApiTokenRefSchema, RateLimitSchema } from "@tributary/query-api";

export const DEFAULT_API_PORT = 8091;

export const StandaloneApiConfigSchema = Type.Object(
  {
    host: Type.String({ default: "0.0.0.0", description: "env TRIBUTARY_HOST" }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: DEFAULT_API_PORT, description: "env TRIBUTARY_PORT" }),
    logLevel: StringEnum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], { default: "info" }),
    warehouseUrl: Type.String({
      minLength: 1,
      description:
        "clickhouse://reader:password@host:8123/database (a read-only user is enough); env TRIBUTARY_WAREHOUSE_URL",
    }),
    tokens: Type.Array(ApiTokenRefSchema, { minItems: 1, description: "bearer tokens, each scoped to sources" }),
    rateLimit: RateLimitSchema,
  },
  { additionalProperties: false },
);
export type StandaloneApiConfig = Static<typeof StandaloneApiConfigSchema>;

export function loadApiConfig(env: NodeJS.ProcessEnv, file: string | undefined): StandaloneApiConfig {
  return loadConfig(StandaloneApiConfigSchema, {
    file,
    overrides: {
      ...serviceEnvOverrides(env, { nats: false }),
      warehouseUrl: envString(env, "TRIBUTARY_WAREHOUSE_URL"),
    },
  });
}
