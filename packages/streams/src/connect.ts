import { ConfigError } from "@tributary/errors";
import { AuthorizationError } from "@nats-io/nats-core";
import { connect, type ConnectionOptions, type NatsConnection } from "@nats-io/transport-node";

/** NATS refused the credentials: a config problem, so services stop at start (exit 78) with this message. */
export class NatsCredentialsError extends ConfigError {
  constructor(servers: string[], user: string | undefined, options?: ErrorOptions) {
    super(
      "nats.user",
      `NATS at ${servers.join(", ")} refused ${user ? `user ${JSON.stringify(user)}` : "a connection without credentials"}`,
      "check nats.user and nats.pass (TRIBUTARY_NATS_USER, TRIBUTARY_NATS_PASS)",
      options,
    );
    this.name = "NatsCredentialsError";
  }
}

export interface NatsConnectOptions {
  servers: string[];
  /** Shows in the server's connection list (`/connz`). */
  name: string;
  user?: string;
  pass?: string;
  token?: string;
  /** Retry the first connect instead of failing at once (useful when NATS starts alongside). */
  waitOnFirstConnect?: boolean;
}

/**
 * Connects with reconnects that never give up: a regional server restart must not need a process
 * restart. Callers see outages as publish errors (and readiness false), not as a dead client.
 * With waitOnFirstConnect, an unreachable server is retried until it answers, but refused
 * credentials reject at once as NatsCredentialsError.
 */
export async function connectNats(opts: NatsConnectOptions): Promise<NatsConnection> {
  const options: ConnectionOptions = {
    servers: opts.servers,
    name: opts.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: opts.waitOnFirstConnect ?? false,
    ...(opts.user !== undefined ? { user: opts.user, pass: opts.pass ?? "" } : {}),
    ...(opts.token !== undefined ? { token: opts.token } : {}),
  };
  try {
    return await connect(options);
  } catch (err) {
    if (err instanceof AuthorizationError) throw new NatsCredentialsError(opts.servers, opts.user, { cause: err });
    throw err;
  }
}
