import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  freePorts,
  postToGateway,
  sampleEvent,
  signWebhook,
  startNatsServer,
  startService,
  waitFor,
  type NatsServer,
  type Service,
} from "@tributary/testkit";
import { DuckDbSink, type StoredEvent } from "@tributary/warehouse";

export const SECRET = "pipeline-secret-0123456789abcdef";
const GATEWAY_MAIN = fileURLToPath(import.meta.resolve("@tributary/gateway/main"));
const AGGREGATOR_MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));

/** The aggregator's operator token in these tests. */
export const OPERATOR_TOKEN = "operator-token-0123456789abcdef";

/** One region end to end, every part a real process: nats-server, gateway, aggregator, DuckDB file. */
export class Pipeline {
  gateway!: Service;
  aggregator: Service | undefined;
  private constructor(
    readonly dir: string,
    readonly nats: NatsServer,
    readonly gatewayPort: number,
    readonly aggregatorPort: number,
  ) {}

  /** `aggregator` adds settings to the aggregator's config file (enrichment, API tokens). */
  static async start(opts: { aggregator?: Record<string, unknown> } = {}): Promise<Pipeline> {
    const dir = mkdtempSync(join(tmpdir(), "tributary-pipeline-"));
    const nats = await startNatsServer({ domain: "us", dir: join(dir, "nats") });
    const [gatewayPort, aggregatorPort] = await freePorts(2);
    const p = new Pipeline(dir, nats, gatewayPort!, aggregatorPort!);
    writeFileSync(join(dir, "secret"), SECRET);
    writeFileSync(
      join(dir, "gateway.json"),
      JSON.stringify({
        region: "us",
        port: gatewayPort,
        opsPort: 0, // any free port: test files run side by side
        logLevel: "warn",
        nats: { servers: [nats.url] },
        stream: { maxBytes: 256 * 1024 * 1024 },
        sources: {
          demo: { scheme: { type: "webhook-hmac-sha256" }, secrets: [{ id: "k1", file: join(dir, "secret") }] },
        },
      }),
    );
    writeFileSync(
      join(dir, "aggregator.json"),
      JSON.stringify({
        port: aggregatorPort,
        logLevel: "warn",
        warehouseUrl: `duckdb://${join(dir, "events.duckdb")}`,
        nats: { servers: [nats.url] },
        stream: "EVENTS_US",
        ackWaitMs: 5_000,
        batch: { maxEvents: 100, maxAgeMs: 50 },
        // /v1/stats is the operator's: the harness reads it with the operator token.
        operatorToken: { env: "OPERATOR_TOKEN" },
        ...opts.aggregator,
      }),
    );
    p.gateway = await startService({
      name: "gateway",
      entry: GATEWAY_MAIN,
      env: { TRIBUTARY_CONFIG: join(dir, "gateway.json") },
      readyUrl: `${p.gatewayUrl}/readyz`,
    });
    return p;
  }

  get gatewayUrl(): string {
    return `http://127.0.0.1:${this.gatewayPort}`;
  }

  get aggregatorUrl(): string {
    return `http://127.0.0.1:${this.aggregatorPort}`;
  }

  async startAggregator(): Promise<Service> {
    this.aggregator = await startService({
      name: "aggregator",
      entry: AGGREGATOR_MAIN,
      env: { TRIBUTARY_CONFIG: join(this.dir, "aggregator.json"), OPERATOR_TOKEN },
      readyUrl: `${this.aggregatorUrl}/readyz`,
    });
    return this.aggregator;
  }

  /** The running aggregator's /v1/stats (an operator endpoint). */
  async stats(): Promise<{ rows: number; loader: { duplicates: number } }> {
    const res = await fetch(`${this.aggregatorUrl}/v1/stats`, {
      headers: { authorization: `Bearer ${OPERATOR_TOKEN}` },
    });
    return (await res.json()) as { rows: number; loader: { duplicates: number } };
  }

  /** Rows the running aggregator reports. */
  async rowCount(): Promise<number> {
    return (await this.stats()).rows;
  }

  async waitForRows(expected: number, timeoutMs = 60_000): Promise<void> {
    await waitFor(
      `${expected} rows`,
      async () => ((await this.rowCount()) >= expected ? true : undefined),
      timeoutMs,
      100,
    );
  }

  /** Stops the aggregator and reads every row straight from the DuckDB file. */
  async rowsFromFile(): Promise<StoredEvent[]> {
    await this.aggregator?.stop();
    const sink = await DuckDbSink.open(join(this.dir, "events.duckdb"));
    try {
      return await sink.recentEvents(1_000_000);
    } finally {
      await sink.close();
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.gateway?.kill(), this.aggregator?.kill()]);
    await this.nats.cleanup();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface SendTally {
  sent: number;
  accepted: Set<string>;
  duplicates: number;
  other: Map<number, number>;
}

/**
 * Sends `unique` signed events, 10% of them a second time (re-signed, as a sender's retry is),
 * `concurrency` at a time, and counts every answer (after resending pressure refusals).
 */
export async function sendWithResends(
  url: string,
  unique: number,
  opts: { concurrency?: number; seedPrefix?: string } = {},
): Promise<SendTally> {
  const bodies = Array.from({ length: unique }, (_, i) => sampleEvent({ seed: `${opts.seedPrefix ?? "e"}-${i}` }));
  const plan = [...bodies, ...bodies.filter((_, i) => i % 10 === 0)];
  const tally: SendTally = { sent: 0, accepted: new Set(), duplicates: 0, other: new Map() };
  let next = 0;
  const worker = async () => {
    while (next < plan.length) {
      const body = plan[next++]!;
      // A pressure refusal (503 overloaded before the body is read: nothing stored) is resent, as a
      // sender does; every other answer counts as it is.
      const res = await postToGateway(`${url}/v1/sources/demo/events`, {
        headers: signWebhook({ secret: SECRET, body }),
        body,
      });
      const json = res.json as { event_key?: string };
      tally.sent++;
      if (res.status === 202) tally.accepted.add(json.event_key!);
      else if (res.status === 200) tally.duplicates++;
      else tally.other.set(res.status, (tally.other.get(res.status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 16 }, worker));
  return tally;
}
