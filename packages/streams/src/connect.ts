import { ConfigError } from "@tributary/errors";
import { AuthorizationError } from "@nats-io/nats-core";
import { connect, createInbox, type ConnectionOptions, type NatsConnection } from "@nats-io/transport-node";
import { inboxPrefix } from "./users.js";

/** A server URL as it may be shown: without a password or token it carries. */
function withoutUserinfo(server: string): string {
  return server.replace(/^([a-z]+:\/\/)[^@/]*@/i, "$1");
}

/** NATS refused the credentials: a config problem, so services stop at start (exit 78) with this message. */
export class NatsCredentialsError extends ConfigError {
  constructor(servers: string[], user: string | undefined, options?: ErrorOptions) {
    super(
      "nats.user",
      `NATS at ${servers.map(withoutUserinfo).join(", ")} refused ${user ? `user ${JSON.stringify(user)}` : "a connection without credentials"}`,
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
  /**
   * TLS to the server. Given, or with any `tls://` server URL, the connection refuses a server that
   * does not offer TLS (a `nats://` URL takes TLS only when the server asks for it). `caFile`: the CA
   * the server's certificate is checked against; without it Node's trusted CAs (plus
   * `NODE_EXTRA_CA_CERTS`, how the Helm charts hand the apps their NATS CA).
   */
  tls?: { caFile?: string };
}

/** The first reconnect attempt waits this long after a connection is lost. */
export const RECONNECT_WAIT_MS = 250;
/**
 * Plus a random share of this much (nats.js adds `random() × jitter` to every wait), so the gateways,
 * aggregators and delivery processes of a deployment do not all knock on a restarting server in the
 * same instant: spread over a second, and over two with TLS, whose handshake costs the server more.
 */
export const RECONNECT_JITTER_MS = 1_000;
export const RECONNECT_JITTER_TLS_MS = 2_000;

function tlsOptions(opts: NatsConnectOptions): Pick<ConnectionOptions, "tls"> {
  const required = opts.tls !== undefined || opts.servers.some((s) => s.startsWith("tls://"));
  if (!required) return {};
  return { tls: opts.tls?.caFile ? { caFile: opts.tls.caFile } : {} };
}

/**
 * Connects with reconnects that never give up: a regional server restart must not need a process
 * restart. Callers see outages as publish errors (and readiness false), not as a dead client.
 * With waitOnFirstConnect, an unreachable server is retried until it answers, but refused
 * credentials reject at once as NatsCredentialsError. A user's replies come to its own inbox
 * prefix (`_INBOX_{user}`), the only one its permissions let it subscribe to.
 */
export async function connectNats(opts: NatsConnectOptions): Promise<NatsConnection> {
  const options: ConnectionOptions = {
    servers: opts.servers,
    name: opts.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: RECONNECT_WAIT_MS,
    reconnectJitter: RECONNECT_JITTER_MS,
    reconnectJitterTLS: RECONNECT_JITTER_TLS_MS,
    waitOnFirstConnect: opts.waitOnFirstConnect ?? false,
    ...(opts.user !== undefined ? { user: opts.user, pass: opts.pass ?? "", inboxPrefix: inboxPrefix(opts.user) } : {}),
    ...(opts.token !== undefined ? { token: opts.token } : {}),
    ...tlsOptions(opts),
  };
  try {
    return await connect(options);
  } catch (err) {
    if (err instanceof AuthorizationError) throw new NatsCredentialsError(opts.servers, opts.user, { cause: err });
    throw err;
  }
}

/**
 * A new inbox subject under the connection's own prefix (`_INBOX_{user}` from connectNats): for
 * code that subscribes to replies itself (the gateway's pipelined PubAcks) instead of through
 * `request()`, which nats.js already points there. nats.js keeps the prefix in the connection's
 * options, which its NatsConnection type does not show.
 */
export function inboxOf(nc: NatsConnection): string {
  const options = (nc as NatsConnection & { options?: Pick<ConnectionOptions, "inboxPrefix"> }).options;
  return createInbox(options?.inboxPrefix);
}
