import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { connectNats } from "@tributary/streams";
import {
  freePorts,
  isPressureRefusal,
  sampleEvent,
  signWebhook,
  startNatsServer,
  startService,
  waitFor,
  type NatsServer,
} from "@tributary/testkit";

const SECRET = "shutdown-secret-0123456789abcdef";
const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));

describe("gateway shutdown", () => {
  let nats: NatsServer | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await nats?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("shutdown - SIGTERM under load: in-flight publishes finish, exit 0, every 202 is in the stream", async () => {
    nats = await startNatsServer({ domain: "us" });
    dir = mkdtempSync(join(tmpdir(), "gw-shutdown-"));
    const [port] = await freePorts(1);
    writeFileSync(
      join(dir, "gateway.json"),
      JSON.stringify({
        region: "us",
        port,
        opsPort: 0,
        logLevel: "warn",
        nats: { servers: [nats.url] },
        sources: {
          demo: { scheme: { type: "webhook-hmac-sha256" }, secrets: [{ id: "k", env: "DEMO_SECRET" }], batch: true },
        },
      }),
    );
    const url = `http://127.0.0.1:${port}`;
    const gateway = await startService({
      name: "gateway",
      entry: MAIN,
      env: { TRIBUTARY_CONFIG: join(dir, "gateway.json"), DEMO_SECRET: SECRET },
      readyUrl: `${url}/readyz`,
    });

    const accepted = new Map<string, number>(); // event key → stream seq
    const statuses = new Map<string, number>();
    let stop = false;
    const worker = async () => {
      for (let i = 0; i < 2000 && !stop; i++) {
        const body = sampleEvent();
        try {
          const res = await fetch(`${url}/v1/sources/demo/events`, {
            method: "POST",
            headers: signWebhook({ secret: SECRET, body }),
            body,
          });
          const json = (await res.json()) as { event_key?: string; seq?: number; error?: { code: string } };
          const label =
            res.status === 202
              ? "202"
              : isPressureRefusal(res.status, json)
                ? "pressure"
                : `${res.status} ${json.error?.code ?? ""}`;
          statuses.set(label, (statuses.get(label) ?? 0) + 1);
          if (res.status === 202) accepted.set(json.event_key!, json.seq!);
          if (res.status === 503) expect(res.headers.get("retry-after")).toBeTruthy();
        } catch {
          statuses.set("connection closed", (statuses.get("connection closed") ?? 0) + 1);
          return; // the server is gone
        }
      }
    };
    // First-party producers send batches meanwhile: every item acknowledged must be stored too.
    const batchWorker = async () => {
      for (let i = 0; i < 500 && !stop; i++) {
        const body = Array.from({ length: 10 }, () => sampleEvent()).join("\n");
        try {
          const res = await fetch(`${url}/v1/sources/demo/batch`, {
            method: "POST",
            headers: { ...signWebhook({ secret: SECRET, body }), "content-type": "application/x-ndjson" },
            body,
          });
          const json = (await res.json()) as {
            items?: Array<{ status: string; event_key?: string; seq?: number }>;
            error?: { code: string };
          };
          const label =
            res.status === 202
              ? "202"
              : isPressureRefusal(res.status, json)
                ? "pressure"
                : `${res.status} ${json.error?.code ?? ""}`;
          statuses.set(label, (statuses.get(label) ?? 0) + 1);
          for (const item of json.items ?? []) if (item.status === "accepted") accepted.set(item.event_key!, item.seq!);
        } catch {
          statuses.set("connection closed", (statuses.get("connection closed") ?? 0) + 1);
          return;
        }
      }
    };
    const workers = [...Array.from({ length: 16 }, worker), ...Array.from({ length: 4 }, batchWorker)];
    await waitFor("200 accepted events", () => (accepted.size >= 200 ? true : undefined));
    const exitCode = await gateway.stop();
    stop = true;
    await Promise.all(workers);

    if (exitCode !== 0) console.log(statuses, gateway.output());
    expect(exitCode).toBe(0);
    // "pressure": the pressure guard's 503 overloaded, before the body is read (nothing stored), which
    // a gateway process starved of CPU on a loaded machine gives; not a shutdown answer, but allowed.
    expect(
      [...statuses.keys()].every(
        (s) => s === "202" || s === "503 shutting_down" || s === "connection closed" || s === "pressure",
      ),
      JSON.stringify([...statuses]),
    ).toBe(true);
    const nc = await connectNats({ servers: [nats.url], name: "check" });
    try {
      const jsm = await jetstreamManager(nc);
      for (const [key, seq] of accepted) {
        const stored = await jsm.streams.getMessage("EVENTS_US", { seq });
        expect(stored?.header.get("Nats-Msg-Id")).toBe(key);
      }
    } finally {
      await nc.close();
    }
  });
});
