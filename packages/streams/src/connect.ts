import { connect, type ConnectionOptions, type NatsConnection } from "@nats-io/transport-node";

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
  return connect(options);
}
