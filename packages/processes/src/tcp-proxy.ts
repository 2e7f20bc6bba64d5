import { createServer, connect, type AddressInfo, type Server, type Socket } from "node:net";

/**
 * A loopback TCP proxy that a test can cut and restore, to break a link (a leafnode connection
 * between a region and the hub) the way a network failure does: established connections are
 * destroyed and new ones refused until `restore()`. Written here because the point is to control
 * a real socket path between two real servers from inside the test.
 */
export interface TcpProxy {
  readonly port: number;
  readonly url: (scheme: string) => string;
  /** Destroys every connection and refuses new ones. */
  cut(): void;
  restore(): void;
  readonly isCut: boolean;
  close(): Promise<void>;
}

/** The target may be given later (a function read per connection): the proxy's port can then go into the target's own config. */
export async function startTcpProxy(
  target: { host?: string; port: number } | (() => { host?: string; port: number }),
  listenPort = 0,
): Promise<TcpProxy> {
  const targetOf = typeof target === "function" ? target : () => target;
  const sockets = new Set<Socket>();
  let cut = false;
  const server: Server = createServer((client) => {
    if (cut) {
      client.destroy();
      return;
    }
    const { host, port } = targetOf();
    const upstream = connect(port, host ?? "127.0.0.1");
    sockets.add(client);
    sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listenPort, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: (scheme: string) => `${scheme}://127.0.0.1:${port}`,
    cut() {
      cut = true;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
    restore() {
      cut = false;
    },
    get isCut() {
      return cut;
    },
    async close() {
      cut = true;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
