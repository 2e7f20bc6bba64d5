import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectNats } from "@tributary/streams";
import { sampleEvent, waitFor } from "@tributary/testkit";
import { cliRunner, Ledger, Receiver, send, startTestTopology } from "./harness.js";

describe("tributary up --destinations: the delivery process in the local system", () => {
  let topology: Awaited<ReturnType<typeof startTestTopology>>;
  let crm: Receiver;
  let euOnly: Receiver;
  const ledger = new Ledger();
  const { cli, json } = cliRunner(() => topology.stateDir);
  const startedAt = new Date();
  const keys = Array.from({ length: 10 }, (_, i) => `demo:dl-${i}`);

  beforeAll(async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "tributary-delivery-topology-"));
    // whsec_ secrets as a user keeps them: in files next to the state, referenced by path.
    const secret = `whsec_${Buffer.from("a local destination secret, 32 b").toString("base64")}`;
    writeFileSync(join(stateDir, "crm.secret"), `${secret}\n`, { mode: 0o600 });
    crm = await Receiver.start(secret);
    euOnly = await Receiver.start(secret);
    crm.refuse.add(keys[3]!);
    const signing = { secrets: [{ id: "local", file: join(stateDir, "crm.secret") }] };
    topology = await startTestTopology({
      stateDir,
      destinations: [
        { name: "crm", url: crm.url, start: "all", signing, retry: { initialDelayMs: 100, maxDelayMs: 500 } },
        { name: "eu-only", url: euOnly.url, start: "all", filter: 'region = "eu"', signing },
      ],
    });
    for (const [i, key] of keys.entries())
      // The seed is the body's event_id, which keys it: demo:dl-3 for seed dl-3.
      await send(topology, ledger, i % 2 ? "eu" : "us", sampleEvent({ seed: key.slice("demo:".length) }), key);
  });
  afterAll(async () => {
    await topology?.cleanup();
    await crm?.close();
    await euOnly?.close();
  });

  it("every event reaches each destination it matches, signed, with its key as the id; a 410 goes to that destination's DLQ only", async () => {
    expect(ledger.acknowledged.size).toBe(10);
    await waitFor("crm has every event but the refused one", () => new Set(crm.ids).size === 9 || undefined, 30_000);
    await waitFor("eu-only has the eu events", () => new Set(euOnly.ids).size === 5 || undefined, 30_000);
    expect(new Set(crm.ids)).toEqual(new Set(keys.filter((k) => k !== keys[3])));
    expect(new Set(euOnly.ids)).toEqual(new Set(keys.filter((_, i) => i % 2 === 1)));
    expect(new Set(euOnly.regions)).toEqual(new Set(["eu"]));
    expect(crm.badSignatures + euOnly.badSignatures).toBe(0);

    // The counters move just after each answer reaches the delivery process: poll until they settle.
    type Status = Array<{
      name: string;
      delivered: number;
      dlq: number;
      filtered: number;
      breakerState: string;
      pending: number;
    }>;
    const { code, data } = await waitFor(
      "the counters to settle",
      async () => {
        const r = await json<Status>("destinations");
        const total = (name: string) => r.data.find((d) => d.name === name)!;
        return total("crm").delivered + total("crm").dlq === 10 &&
          total("eu-only").delivered + total("eu-only").filtered === 10
          ? r
          : undefined;
      },
      30_000,
      250,
    );
    expect(code).toBe(0);
    expect(data.find((d) => d.name === "crm")).toMatchObject({
      delivered: 9,
      dlq: 1,
      breakerState: "closed",
      pending: 0,
    });
    expect(data.find((d) => d.name === "eu-only")).toMatchObject({ delivered: 5, filtered: 5, dlq: 0 });
    expect((await cli("destinations")).stdout).toMatch(/crm\s.*closed/);
    const doctor = await json<{ ok: boolean; checks: Array<{ name: string; status: string }> }>("doctor");
    expect(doctor.data.checks.filter((c) => c.name.startsWith("delivery:")).map((c) => [c.name, c.status])).toEqual([
      ["delivery: reachable", "ok"],
      ["delivery: crm", "ok"],
      ["delivery: eu-only", "ok"],
    ]);
    const status = await json<{ delivery: { reachable: boolean; destinations: Array<{ name: string }> } }>(
      "status",
      "--sample-ms",
      "100",
    );
    expect(status.data.delivery.reachable).toBe(true);
    expect(status.data.delivery.destinations.map((d) => d.name).sort()).toEqual(["crm", "eu-only"]);
  });

  it("destinations dlq shows the dead letter with the destination's answer; dlq-replay delivers it once the destination takes it", async () => {
    const { data: page } = await json<{
      entries: Array<{ eventKey: string; status: number; reason: string; response: string }>;
    }>("destinations", "dlq", "crm");
    expect(page.entries).toHaveLength(1);
    expect(page.entries[0]).toMatchObject({ eventKey: keys[3], status: 410 });
    expect(page.entries[0]!.reason).toMatch(/^rejected/);
    expect(page.entries[0]!.response).toContain("gone");
    expect((await json<{ entries: unknown[] }>("destinations", "dlq", "eu-only")).data.entries).toHaveLength(0);

    crm.refuse.clear();
    expect((await json<{ replayed: number }>("destinations", "dlq-replay", "crm")).data.replayed).toBe(1);
    await waitFor("the replayed dead letter is delivered", () => crm.ids.includes(keys[3]!) || undefined, 30_000);
    expect((await json<{ entries: unknown[] }>("destinations", "dlq", "crm")).data.entries).toHaveLength(0);
    // keys[3] went to eu: eu-only had it once, and the replay to crm did not send it there again.
    expect(euOnly.ids.filter((id) => id === keys[3])).toHaveLength(1);
  });

  it("destinations replay sends a time range to that destination again, with the same ids; no other destination sees it", async () => {
    const before = { crm: crm.ids.length, euOnly: euOnly.ids.length };
    const { data } = await json<{ replayed: number; truncated: boolean }>(
      "destinations",
      "replay",
      "crm",
      "--since",
      startedAt.toISOString(),
    );
    expect(data).toMatchObject({ replayed: 10, truncated: false });
    await waitFor("crm gets the range again", () => crm.ids.length === before.crm + 10 || undefined, 30_000);
    expect(new Set(crm.ids.slice(before.crm))).toEqual(new Set(keys));
    expect(euOnly.ids.length).toBe(before.euOnly);
  });

  it("destinations log reads every attempt from the warehouse (loaded by the aggregator from the delivery log)", async () => {
    type Log = {
      total: number;
      attempts: Array<{ destination: string; event_key: string; outcome: string; status: number }>;
    };
    await waitFor(
      "crm's attempts are in the warehouse",
      async () => (await json<Log>("destinations", "log", "crm", "--limit", "100")).data.total >= 21 || undefined,
      30_000,
      500,
    );
    const dlq = (await json<Log>("destinations", "log", "crm", "--outcome", "dlq")).data;
    expect(dlq.attempts).toEqual([
      expect.objectContaining({ destination: "crm", event_key: keys[3], outcome: "dlq", status: 410 }),
    ]);
    const one = (await json<Log>("destinations", "log", "--event-key", keys[1]!)).data;
    // keys[1] went to eu: crm twice (the replay), eu-only once.
    expect(one.attempts.map((a) => a.destination).sort()).toEqual(["crm", "crm", "eu-only"]);
    expect((await cli("destinations", "log", "crm")).stdout).toMatch(/attempts match/);
  });

  it("the delivery user is least privilege: its own consumers, not the aggregator's", async () => {
    const cred = topology.credentials.delivery!;
    const nc = await connectNats({ servers: [topology.hub.url], name: "probe", user: cred.user, pass: cred.password });
    try {
      const jsm = await jetstreamManager(nc);
      expect((await jsm.consumers.info("EVENTS_ENRICHED", "delivery-crm")).name).toBe("delivery-crm");
      await expect(jsm.consumers.info("EVENTS_ENRICHED", "warehouse-loader")).rejects.toThrow();
      await expect(jsm.streams.delete("EVENTS")).rejects.toThrow();
    } finally {
      await nc.close();
    }
  });

  it("operator errors: an unknown destination, and a context without a delivery process, say what to do", async () => {
    const tooMany = await cli("destinations", "dlq", "crm", "--limit", "5000");
    expect(tooMany.code).toBe(2);
    expect(tooMany.stderr).toMatch(/must be at most 1,000/);
    // A name the API refuses (its pattern): the API's own message, not raw JSON.
    const badName = await cli("destinations", "dlq", "CRM");
    expect(badName.code).toBe(2);
    expect(badName.stderr).toMatch(/^tributary: params\/name must match pattern/m);
    const unknown = await cli("destinations", "dlq", "nope");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no destination named "nope"/);
    const contextFile = join(topology.stateDir, "context-no-delivery.json");
    const context = JSON.parse(readFileSync(join(topology.stateDir, "context.json"), "utf8")) as Record<
      string,
      unknown
    >;
    delete context.deliveryUrl;
    writeFileSync(contextFile, JSON.stringify(context), { mode: 0o600 });
    const none = await cli("--context", contextFile, "destinations");
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no delivery process: start `tributary up --destinations FILE`/);
    rmSync(contextFile);
  });
});
