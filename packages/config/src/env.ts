import { ConfigError } from "./errors.js";

/**
 * Typed env readers, in the OpenTelemetry habit: a blank value means unset, a bad value is a
 * ConfigError naming the variable. Only an app's config factory calls these; libraries never read env.
 */
export function envString(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

export function envInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const value = envString(env, name);
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value))
    throw new ConfigError(
      name,
      `must be a whole number, got ${JSON.stringify(value)}`,
      `set ${name} to digits only or unset it`,
    );
  return Number(value);
}

export function envList(env: NodeJS.ProcessEnv, name: string): string[] | undefined {
  const value = envString(env, name);
  return value === undefined
    ? undefined
    : value
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
}

/** The config file an app was pointed at: `--config <path>` wins over TRIBUTARY_CONFIG. */
export function configFileFrom(argv: readonly string[], env: NodeJS.ProcessEnv): string | undefined {
  const i = argv.indexOf("--config");
  return (i >= 0 ? argv[i + 1] : undefined) ?? envString(env, "TRIBUTARY_CONFIG");
}

/**
 * The env overrides every Tributary service takes: where it listens, how much it logs, and — for
 * those that connect to NATS — where and as whom (`TRIBUTARY_NATS_URL` comma-separated, user,
 * password). One list, so the apps cannot drift apart in what they read.
 */
export function serviceEnvOverrides(env: NodeJS.ProcessEnv, opts: { nats?: boolean } = {}): Record<string, unknown> {
  return {
    host: envString(env, "TRIBUTARY_HOST"),
    port: envInt(env, "TRIBUTARY_PORT"),
    logLevel: envString(env, "TRIBUTARY_LOG_LEVEL"),
    ...(opts.nats === false
      ? {}
      : {
          "nats.servers": envList(env, "TRIBUTARY_NATS_URL"),
          "nats.user": envString(env, "TRIBUTARY_NATS_USER"),
          "nats.pass": envString(env, "TRIBUTARY_NATS_PASS"),
        }),
  };
}

/** What a service's `nats` settings hold about who it connects as. */
export interface NatsLogin {
  user?: string | undefined;
  pass?: string | undefined;
}

/**
 * The login to spread into `connectNats` options (`@tributary/streams`): nothing without a user,
 * and a user without a password sends an empty one (as nats-server expects of a user with none).
 */
export function natsCredentials(nats: NatsLogin): { user?: string; pass?: string } {
  return nats.user !== undefined ? { user: nats.user, pass: nats.pass ?? "" } : {};
}
