import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { headers as natsHeaders } from "@nats-io/nats-core";
import { jetstream } from "@nats-io/jetstream";
import { connectNats, EventHeader } from "@tributary/streams";
import { sampleEvent, waitFor } from "@tributary/testkit";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Reconciliation } from "../src/ops/reconcile.js";
import { cliRunner, Ledger, rowCount, send, startTestTopology } from "./harness.js";

describe("operator commands against the local topology", () => {
  let topology: Awaited<ReturnType<typeof startTestTopology>>;
  const ledger = new Ledger();

  const { cli, json } = cliRunner(() => topology.stateDir);

  /** With the aggregator stopped (DuckDB has one writer), changes the warehouse file, then starts it again. */
  async function editWarehouse(edit: (db: DuckDBConnection) => Promise<void>): Promise<void> {
    await topology.aggregator.stop();
    const instance = await DuckDBInstance.create(join(topology.stateDir, "tributary.duckdb"));
    const db = await instance.connect();
    try {
      await edit(db);
    } finally {
      db.closeSync();
      instance.closeSync();
    }
    await topology.restartAggregator();
  }
  const sql = (db: DuckDBConnection, text: string) => db.run(text);

  beforeAll(async () => {
    topology = await startTestTopology();
    for (let i = 0; i < 20; i++)
      await send(topology, ledger, i % 2 ? "eu" : "us", sampleEvent({ seed: `op-${i}` }), `demo:op-${i}`);
    // The same event accepted by both regions: one row, and the second region's sequence is "another copy".
    await send(topology, ledger, "eu", sampleEvent({ seed: "op-0" }), "demo:op-0");
    await waitFor("20 rows", async () => ((await rowCount(topology)) >= 20 ? true : undefined), 30_000, 100);
  }, 120_000);
  afterAll(async () => {
    await topology?.cleanup();
  });

  it("help - the root and each command explain themselves with examples", async () => {
    const root = await cli("--help");
    expect(root.stdout).toMatch(/Examples:/);
    for (const command of ["status", "reconcile", "replay", "doctor", "send", "up", "down"])
      expect(root.stdout).toContain(command);
    const dlqHelp = await cli("dlq", "--help");
    expect(dlqHelp.stdout).toMatch(/list[\s\S]*show[\s\S]*replay[\s\S]*drop/);
    const bad = await cli("send", "--count", "zero");
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--count.*whole number/);
  });

  it("status - regions, hub and warehouse, as a table and as JSON", async () => {
    const { code, data } = await json<{
      regions: Array<{ region: string; reachable: boolean; messages: number; outageBudgetSeconds: number }>;
      hub: { consumer: { pending: number }; dlqMessages: number; sources: unknown[] };
      warehouse: { rows: number; lagSeconds: number };
    }>("status", "--sample-ms", "200");
    expect(code).toBe(0);
    expect(data.regions.map((r) => [r.region, r.reachable])).toEqual([
      ["us", true],
      ["eu", true],
    ]);
    expect(data.regions.find((r) => r.region === "eu")!.messages).toBe(11);
    expect(data.regions[0]!.outageBudgetSeconds).toBeGreaterThan(3600);
    expect(data.hub.sources).toHaveLength(2);
    expect(data.hub.dlqMessages).toBe(0);
    expect(data.warehouse.rows).toBe(20);
    const text = await cli("status", "--sample-ms", "200");
    expect(text.stdout).toMatch(/outage budget/);
    expect(text.stdout).toMatch(/loader consumer/);
  });

  it("reconcile - clean, then finds a row deleted on purpose and a double; a replay of the range restores the row, and adds nothing when repeated", async () => {
    const clean = await json<Reconciliation>("reconcile");
    expect(clean.code).toBe(0);
    expect(clean.data.clean).toBe(true);
    expect(clean.data.regions.find((r) => r.region === "eu")!.loadedAsAnotherCopy).toBe(1);

    // A lost row (us seq 3) and a double (a second row for us seq 5 under another key).
    let lostKey = "";
    await editWarehouse(async (db) => {
      const result = await db.runAndReadAll("SELECT event_key FROM events WHERE region = 'us' AND region_seq = 3");
      lostKey = String(result.getRowObjectsJS()[0]!.event_key);
      await sql(db, "DELETE FROM events WHERE region = 'us' AND region_seq = 3");
      // Every column as the row at seq 5 has it, under another key (and its own load sequence).
      const columns = (
        await db.runAndReadAll(
          "SELECT column_name FROM information_schema.columns WHERE table_name = 'events' AND column_name NOT IN ('event_key', 'event_id', 'load_seq')",
        )
      )
        .getRowObjectsJS()
        .map((r) => String(r.column_name));
      await sql(
        db,
        `INSERT INTO events (event_key, event_id, ${columns.join(", ")}) SELECT 'demo:forged-double', 'forged-double', ${columns.join(", ")} FROM events WHERE region = 'us' AND region_seq = 5`,
      );
    });
    const dirty = await json<Reconciliation>("reconcile");
    expect(dirty.code).toBe(1);
    const us = dirty.data.regions.find((r) => r.region === "us")!;
    expect(us.lost).toEqual([{ seq: 3, key: lostKey }]);
    expect(us.doubles).toEqual([
      { seq: 5, keys: expect.arrayContaining(["demo:forged-double"]) as unknown as string[] },
    ]);
    const text = await cli("reconcile");
    expect(text.stdout).toMatch(/lost: us seq 3/);
    expect(text.stdout).toMatch(/NOT CLEAN/);

    const before = await rowCount(topology);
    const replayed = await json<{ replayed: number }>("replay", "--region", "us", "--from-seq", "3", "--to", "3");
    expect(replayed.data.replayed).toBe(1);
    await waitFor(
      "the replayed row",
      async () => ((await rowCount(topology)) === before + 1 ? true : undefined),
      30_000,
      100,
    );
    // The whole region again: every row is there already, so nothing is added.
    const all = await json<{ replayed: number }>("replay", "--region", "us");
    expect(all.data.replayed).toBe(10);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await rowCount(topology)).toBe(before + 1);

    await editWarehouse((db) =>
      sql(db, "DELETE FROM events WHERE event_key = 'demo:forged-double'").then(() => undefined),
    );
    const again = await json<Reconciliation>("reconcile");
    expect(again.code).toBe(0);
    expect(again.data.clean).toBe(true);
  }, 120_000);

  it("dlq - a poison event is listed with its reason, replayed with a corrected body loads once, and a repeat adds nothing", async () => {
    // Published straight into the hub as a foreign publisher would: valid headers, a broken body.
    const nc = await connectNats({
      servers: [topology.hub.url],
      name: "poison",
      user: topology.credentials.admin.user,
      pass: topology.credentials.admin.password,
    });
    const h = natsHeaders();
    h.set(EventHeader.MsgId, "demo:poisoned");
    h.set(EventHeader.Source, "demo");
    h.set(EventHeader.Region, "us");
    h.set(EventHeader.ReceivedAt, new Date().toISOString());
    h.set(EventHeader.EventType, "link.clicked");
    await jetstream(nc).publish("replay.demo", new TextEncoder().encode('{"event": "link.clicked", broken'), {
      headers: h,
    });
    await nc.close();

    const listed = await waitFor(
      "the DLQ entry",
      async () => {
        const { data } = await json<{
          total: number;
          entries: Array<{ seq: number; reason: string; eventKey: string }>;
        }>("dlq", "list");
        return data.total === 1 ? data : undefined;
      },
      30_000,
      250,
    );
    expect(listed.entries[0]).toMatchObject({
      eventKey: "demo:poisoned",
      reason: expect.stringMatching(/^invalid_json/) as unknown as string,
    });
    const seq = String(listed.entries[0]!.seq);
    const shown = await json<{ body: string; origin: string }>("dlq", "show", seq);
    expect(shown.data.body).toContain("broken");
    expect(shown.data.origin).toMatch(/^EVENTS_ENRICHED:/);

    const fixed = join(topology.stateDir, "fixed.json");
    writeFileSync(fixed, sampleEvent({ seed: "poisoned-fixed" }));
    const before = await rowCount(topology);
    const replay = await json<Array<{ replayed: boolean }>>("dlq", "replay", seq, "--body-file", fixed);
    expect(replay.data).toMatchObject([{ replayed: true }]);
    await waitFor(
      "the fixed event's row",
      async () => ((await rowCount(topology)) === before + 1 ? true : undefined),
      30_000,
      100,
    );
    const repeat = await json<Array<{ replayed: boolean }>>("dlq", "replay", seq, "--body-file", fixed);
    expect(repeat.code).toBe(1);
    expect(repeat.data).toMatchObject([{ replayed: false }]);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await rowCount(topology)).toBe(before + 1);
    expect((await json<{ total: number }>("dlq", "list")).data.total).toBe(0);
    const drop = await cli("dlq", "drop", "--all");
    expect(drop.code).toBe(2); // nothing to drop
  }, 90_000);

  it("doctor - every check passes on the local system, and each says what it looked at", async () => {
    const { code, data } = await json<{ ok: boolean; checks: Array<{ name: string; status: string; fix?: string }> }>(
      "doctor",
    );
    expect(data.checks.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        "node version",
        "hub: nats-server version",
        "hub: JetStream domain",
        "region us: JetStream domain",
        "region eu: hub source consumer",
        "hub: leaf link us",
        "region eu: outage budget",
        "warehouse (through the aggregator)",
      ]),
    );
    expect(data.checks.filter((c) => c.status === "fail")).toEqual([]);
    expect(code).toBe(0);
    // Local servers fsync lazily: a warning that says what to set.
    expect(data.checks.find((c) => c.name === "region us: sync_interval")).toMatchObject({
      status: "warn",
      fix: expect.stringMatching(/sync_interval: always/) as unknown as string,
    });
  }, 60_000);
});
