import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:net";

/**
 * `n` distinct free loopback ports, for apps that take a port in their config.
 *
 * Picked at random *below* the kernel's ephemeral range and checked by binding, not taken from
 * `listen(0)`: a port from the ephemeral range, once closed, can be handed to any outgoing
 * connection on the machine (a NATS client, an HTTP request of a test running alongside) before
 * the app binds it, and the app then fails with EADDRINUSE. Below that range only another
 * explicit bind can take it, and the random pick makes that rare. nats-server avoids the window
 * altogether with `-1` (see nats-server.ts).
 */
export async function freePorts(n: number): Promise<number[]> {
  const [low, high] = pickRange();
  const ports = new Set<number>();
  for (let attempts = 0; ports.size < n; attempts++) {
    if (attempts > 1000) throw new Error(`no ${n} free loopback ports between ${low} and ${high}`);
    const port = low + Math.floor(Math.random() * (high - low));
    if (!ports.has(port) && (await canBind(port))) ports.add(port);
  }
  return [...ports];
}

const FALLBACK_EPHEMERAL_LOW = 32768;

/** [low, high): the 12k ports under the ephemeral range (Linux's default starts at 32768). */
function pickRange(): [number, number] {
  let ephemeralLow = FALLBACK_EPHEMERAL_LOW;
  try {
    const first = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    if (Number.isInteger(first) && first > 10_000) ephemeralLow = first;
  } catch {
    // not Linux: keep the default
  }
  return [ephemeralLow - 12_000, ephemeralLow];
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server: Server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}
