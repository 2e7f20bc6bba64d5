import { createServer, type AddressInfo, type Server } from "node:net";

/**
 * `n` distinct free loopback ports, for apps that take a port in their config. Listening on port 0
 * and closing leaves a small window in which another process could take the port; nats-server
 * avoids it with `-1` (see nats-server.ts), apps we start right away accept it.
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Server>((resolve, reject) => {
          const server = createServer();
          server.once("error", reject);
          server.listen(0, "127.0.0.1", () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}
