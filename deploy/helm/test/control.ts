import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

/**
 * @tributary/control, which makes the control bucket (a KV bucket: @nats-io/kv decides its stream's
 * config). This package does not depend on it; the gateway app does, so it is reached through the
 * gateway's dependencies.
 */
export interface ControlStoreLike {
  list(kind: "sources" | "subscriptions"): Promise<Array<{ id: string }>>;
}
export interface ControlModule {
  CONTROL_BUCKET: string;
  ControlStore: {
    hub(js: unknown, opts?: { replicas?: number }): Promise<ControlStoreLike>;
    regionMirror(js: unknown, region: string, opts?: { replicas?: number }): Promise<ControlStoreLike>;
    open(js: unknown, opts: { writable: boolean }): Promise<ControlStoreLike>;
  };
}

const fromGateway = createRequire(fileURLToPath(new URL("../../../apps/gateway/package.json", import.meta.url)));

export async function loadControl(): Promise<ControlModule> {
  return (await import(pathToFileURL(fromGateway.resolve("@tributary/control")).href)) as ControlModule;
}

/**
 * The stream config `make` asks nats-server for, without a server: a JetStream client that finds
 * no stream and records the one created. `make` is ControlStore.hub or ControlStore.regionMirror,
 * so this is exactly the request @nats-io/kv sends for the bucket (against nats-server 2.15.1).
 */
export async function requestedStreamConfig(make: (js: unknown) => Promise<unknown>): Promise<Record<string, unknown>> {
  let created: Record<string, unknown> | undefined;
  const jsm = {
    streams: {
      info: () => Promise.reject(new Error("stream not found")),
      add: (config: Record<string, unknown>) => {
        created = config;
        return Promise.resolve({ config });
      },
    },
  };
  const js = {
    nc: {
      features: { get: () => ({ ok: true, min: "2.0.0" }) },
      getServerVersion: () => ({ major: 2, minor: 15, micro: 1 }),
    },
    apiPrefix: "$JS.API",
    getOptions: () => ({}),
    jetstreamManager: () => Promise.resolve(jsm),
  };
  await make(js);
  if (!created) throw new Error("no stream was created");
  return JSON.parse(JSON.stringify(created)) as Record<string, unknown>;
}
