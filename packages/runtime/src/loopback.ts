/**
 * The addresses a caller on this host has: exactly 127.0.0.1 and ::1, and 127.0.0.1 as an
 * IPv4-mapped IPv6 address (what a dual-stack socket reports). Not the rest of 127.0.0.0/8: a
 * service mesh's sidecar forwards remote callers from other loopback addresses (Istio's inbound
 * traffic comes from 127.0.0.6), and those callers are not local.
 *
 * Three exact strings instead of ipaddr.js: Node reports a peer's address (`socket.remoteAddress`)
 * in canonical form, so parsing could only widen the match, never make it more exact.
 */
const LOOPBACK_ADDRESSES: ReadonlySet<string> = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);

/** Whether a peer address (`request.socket.remoteAddress`) is this host's own loopback caller. */
export function isLoopbackAddress(address: string | undefined): boolean {
  return address !== undefined && LOOPBACK_ADDRESSES.has(address);
}

/** Listen addresses that accept connections from this host only. */
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(["127.0.0.1", "::1", "localhost"]);

/** Whether a server's listen address (`host` in a config) is reachable from this host only. */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host);
}
