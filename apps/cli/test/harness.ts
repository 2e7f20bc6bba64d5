import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Fastify, { type FastifyInstance } from "fastify";
import { Webhook } from "standardwebhooks";
import { promisify } from "node:util";
import { freePorts, postToGateway, sampleEvent, signWebhook, sleep, waitFor } from "@tributary/testkit";
import { jetstreamManager } from "@nats-io/jetstream";
import { connectNats, HUB_STREAM } from "@tributary/streams";
import { DuckDbSink } from "@tributary/warehouse";
import {
  DEFAULT_TOPOLOGY,
  readSecret,
  startTopology,
  type DestinationSpec,
  type Topology,
  type TopologyOptions,
} from "@tributary/local";

/** The hub stream as the admin sees it: its message count, and per sourced region stream the messages it has not taken yet. */
export async function hubState(topology: Topology): Promise<{ messages: number; lag: Map<string, number> }> {
  const admin = topology.credentials.admin;
  const nc = await connectNats({ servers: [topology.hub.url], name: "probe", user: admin.user, pass: admin.password });
  try {
    const info = await (await jetstreamManager(nc)).streams.info(HUB_STREAM);
    return { messages: info.state.messages, lag: new Map((info.sources ?? []).map((s) => [s.name, s.lag])) };
  } finally {
    await nc.close();
  }
}

/** The whole system on free loopback ports in a temp dir, with small batches for quick tests. */
export async function startTestTopology(
  opts: {
    cuttableLinks?: boolean;
    appEnv?: Record<string, string>;
    aggregatorOverrides?: Record<string, unknown>;
    destinations?: DestinationSpec[];
    stateDir?: string;
    cluster?: TopologyOptions["cluster"];
  } = {},
): Promise<Topology & { cleanup(): Promise<void> }> {
  const stateDir = opts.stateDir ?? mkdtempSync(join(tmpdir(), "tributary-topology-"));
  const [us, eu, aggregatorPort, deliveryPort] = await freePorts(4);
  const topology = await startTopology({
    ...DEFAULT_TOPOLOGY,
    stateDir,
    hubPort: -1,
    hubLeafnodePort: -1,
    regionPorts: -1,
    gatewayPorts: [us!, eu!],
    aggregatorPort: aggregatorPort!,
    cuttableLinks: opts.cuttableLinks ?? false,
    logLevel: "warn",
    aggregatorOverrides: { ackWaitMs: 5_000, batch: { maxEvents: 200, maxAgeMs: 50 }, ...opts.aggregatorOverrides },
    ...(opts.appEnv ? { appEnv: opts.appEnv } : {}),
    ...(opts.destinations ? { destinations: opts.destinations, deliveryPort: deliveryPort! } : {}),
    ...(opts.cluster ? { cluster: opts.cluster } : {}),
  });
  return Object.assign(topology, {
    async cleanup() {
      await topology.stop().catch(() => undefined);
      rmSync(stateDir, { recursive: true, force: true });
    },
  });
}

export interface Answer {
  region: string;
  key: string | undefined;
  status: number;
  code: string | undefined;
  retryAfter: string | null;
  ms: number;
  /** Epoch ms when the answer came (the request began `ms` earlier). */
  at: number;
}

/**
 * Counts every event: what was sent where, and every answer. A key counts as acknowledged on a
 * 202 or a 200 duplicate (the region has it).
 */
export class Ledger {
  readonly answers: Answer[] = [];
  /** Every key any request carried (503s included: a timed-out publish may still be stored). */
  readonly attempted = new Set<string>();

  get acknowledged(): Set<string> {
    return new Set(this.answers.filter((a) => a.status === 202 || a.status === 200).map((a) => a.key!));
  }

  statuses(filter: (a: Answer) => boolean = () => true): Map<string, number> {
    const out = new Map<string, number>();
    for (const a of this.answers.filter(filter)) {
      const label = `${a.status}${a.code ? ` ${a.code}` : ""}`;
      out.set(label, (out.get(label) ?? 0) + 1);
    }
    return out;
  }
}

/** Posts one signed body to a region's gateway and records the answer. */
export async function send(
  topology: Topology,
  ledger: Ledger,
  region: string,
  body: string,
  expectedKey: string,
): Promise<Answer> {
  const secret = readSecret(topology.secretFile);
  ledger.attempted.add(expectedKey);
  // A pressure refusal (503 overloaded from the gateway's event-loop/heap guard, before the body is
  // read: a gateway process starved of CPU on a loaded machine) is resent, as a sender does; the
  // answer recorded is the one that followed, with its own request time.
  const res = await postToGateway(`${topology.regions.get(region)!.gatewayUrl}/v1/sources/demo/events`, {
    headers: signWebhook({ secret, body, deliveryId: expectedKey.slice("demo:".length) }),
    body,
  });
  const json = res.json as { event_key?: string; error?: { code: string } };
  const answer: Answer = {
    region,
    key: json.event_key ?? expectedKey,
    status: res.status,
    code: json.error?.code,
    retryAfter: res.headers.get("retry-after"),
    ms: res.ms,
    at: Date.now(),
  };
  ledger.answers.push(answer);
  return answer;
}

/**
 * Steady traffic into the given regions until stop(): each worker sends a new event every few
 * milliseconds. Keys come from delivery ids, so each event's key is known before its answer.
 */
export function steadyTraffic(
  topology: Topology,
  ledger: Ledger,
  regions: readonly string[],
  opts: { workersPerRegion?: number; pauseMs?: number } = {},
) {
  let stopped = false;
  let n = 0;
  const worker = async (region: string) => {
    while (!stopped) {
      const id = `${region}-${process.pid}-${n++}`;
      await send(topology, ledger, region, sampleEvent({ seed: id }), `demo:${id}`);
      await sleep(opts.pauseMs ?? 5);
    }
  };
  const running = Promise.all(
    regions.flatMap((r) => Array.from({ length: opts.workersPerRegion ?? 2 }, () => worker(r))),
  );
  return {
    async stop() {
      stopped = true;
      await running;
    },
  };
}

export async function rowCount(topology: Topology): Promise<number> {
  const res = await fetch(`${topology.aggregatorUrl}/v1/stats`);
  return ((await res.json()) as { rows: number }).rows;
}

/** Which of `keys` the warehouse holds, asked of the running aggregator (loopback operator read). */
async function presentKeys(topology: Topology, keys: string[]): Promise<number> {
  let present = 0;
  for (let i = 0; i < keys.length; i += 10_000) {
    const res = await fetch(`${topology.aggregatorUrl}/v1/reconcile/keys`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ keys: keys.slice(i, i + 10_000) }),
    });
    if (!res.ok) throw new Error(`reconcile/keys: HTTP ${res.status}`);
    present += ((await res.json()) as { present: string[] }).present.length;
  }
  return present;
}

/**
 * Waits until the warehouse holds at least `expected` rows (a count), or every one of `expected`
 * (keys), then reads every key from the file. Pass the keys when the warehouse may also hold events
 * that were never acknowledged (a 503 whose publish was stored): then a row count can reach the
 * number of acknowledged events while some of them are still on their way.
 */
export async function loadedKeys(
  topology: Topology,
  expected: number | ReadonlySet<string>,
  timeoutMs = 90_000,
): Promise<string[]> {
  if (typeof expected === "number") {
    await waitFor(
      `${expected} rows in the warehouse`,
      async () => ((await rowCount(topology)) >= expected ? true : undefined),
      timeoutMs,
      200,
    );
  } else {
    const keys = [...expected];
    await waitFor(
      `all ${keys.length} expected keys in the warehouse`,
      async () => ((await presentKeys(topology, keys)) === keys.length ? true : undefined),
      timeoutMs,
      250,
    );
  }
  // A moment for stragglers (more rows than expected would be a failure worth seeing).
  await sleep(500);
  await topology.aggregator.stop();
  const sink = await DuckDbSink.open(join(topology.stateDir, "tributary.duckdb"));
  try {
    return await sink.eventKeys();
  } finally {
    await sink.close();
  }
}

const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const run = promisify(execFile);

/** Runs the built `tributary` command against a state dir, as an operator would. */
export function cliRunner(stateDir: () => string) {
  /** Resolves with exit code, stdout and stderr (never throws on exit ≠ 0). */
  async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(process.execPath, [MAIN, "--state-dir", stateDir(), ...args], {
        timeout: 60_000,
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === "number" ? e.code : 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
    }
  }
  /** `--json` output, parsed. */
  async function json<T>(...args: string[]): Promise<{ code: number; data: T }> {
    const r = await cli("--json", ...args);
    try {
      return { code: r.code, data: JSON.parse(r.stdout) as T };
    } catch {
      throw new Error(`not JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
    }
  }
  return { cli, json };
}

/** An HTTP destination on loopback; with a `whsec_` secret it checks each request's Standard Webhooks signature. */
export class Receiver {
  readonly ids: string[] = [];
  readonly regions: string[] = [];
  badSignatures = 0;
  /** Ids answered 410 (gone): the delivery process dead-letters those at once. */
  refuse = new Set<string>();
  url = "";
  private readonly app: FastifyInstance = Fastify({ forceCloseConnections: true });

  static async start(secret?: string): Promise<Receiver> {
    const verifier = secret === undefined ? undefined : new Webhook(secret);
    const receiver = new Receiver();
    const app = receiver.app;
    app.addContentTypeParser("application/json", { parseAs: "string" }, (_req, body, done) => done(null, body));
    app.post("/hooks", async (request, reply) => {
      const headers = request.headers as Record<string, string>;
      try {
        verifier?.verify(request.body as string, headers);
      } catch {
        receiver.badSignatures++;
        return reply.code(401).send();
      }
      const id = headers["webhook-id"]!;
      if (receiver.refuse.has(id)) return reply.code(410).send({ error: "gone" });
      receiver.ids.push(id);
      receiver.regions.push(headers["tributary-region"]!);
      return reply.code(204).send();
    });
    receiver.url = `${await app.listen({ host: "127.0.0.1", port: 0 })}/hooks`;
    return receiver;
  }

  close(): Promise<void> {
    return this.app.close();
  }
}
