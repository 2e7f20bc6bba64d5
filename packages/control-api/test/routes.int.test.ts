import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { headers, type NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import type { FastifyInstance } from "fastify";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ControlStore, SealingKeys } from "@tributary/control";
import {
  auditStreamConfig,
  CONTROL_BUCKET,
  deliveryConsumerName,
  ENRICHED_PUBLISH_PREFIX,
  ENRICHED_STREAM,
  enrichedStreamConfig,
  ensureStream,
  EventHeader,
  eventSubject,
} from "@tributary/streams";
import { startNatsServer, type NatsServer } from "@tributary/testkit";
import type { DeliveryStatsRow, EventLocation } from "../src/index.js";
import { callerOf, conformsOf, DEFAULT_TOKENS, host, type Caller, type Conforms } from "./host.js";

/** Every route the host registered (host.ts). */
let routes: Array<{ url: string; ownAuth: boolean }> = [];

describe("management routes - sources, subscriptions, scopes, secrets and the audit log on a real bucket", () => {
  let dir: string;
  let server: NatsServer;
  let nc: NatsConnection;
  let app: FastifyInstance;
  let endpoint: Server;
  let endpointUrl: string;
  const received: Array<{ headers: Record<string, string>; body: string }> = [];
  const logs: string[] = [];
  const keys = SealingKeys.parse(`k1:${randomBytes(32).toString("base64")}`, "test");
  const secretsSeen: string[] = [];
  /** What the delivery log answers (the warehouse's side has its own tests), and the windows asked for. */
  let statsRows: DeliveryStatsRow[] = [];
  const statsAsked: Array<{ since: Date; destination: string | undefined }> = [];
  let store: ControlStore;
  /** The events the warehouse would know of (findEvent, newestEvent), newest last. */
  const warehouseEvents = new Map<string, EventLocation>();
  let jsm: Awaited<ReturnType<typeof jetstreamManager>>;

  const call: Caller = (...args) => callerOf(app)(...args);
  /** Every response body is checked against the route's response schema in the OpenAPI document. */
  const conforms: Conforms = (...args) => conformsOf(app)(...args);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "control-api-"));
    server = await startNatsServer({ name: "hub", domain: "hub", dir });
    nc = await connect({ servers: server.url });
    const js = jetstream(nc);
    jsm = await jetstreamManager(nc);
    store = await ControlStore.hub(js);
    await ensureStream(jsm, auditStreamConfig());
    ({ app, routes } = await host(
      {
        connection: () => ({ store, js, jsm }),
        keys,
        allowPrivate: ["127.0.0.0/8"],
        findEvent: (key) => Promise.resolve(warehouseEvents.get(key)),
        newestEvent: () => Promise.resolve([...warehouseEvents.values()].at(-1)),
        deliveryStats: (since, destination) => {
          statsAsked.push({ since, destination });
          return Promise.resolve(statsRows.filter((r) => destination === undefined || r.destination === destination));
        },
      },
      logs,
      { ...DEFAULT_TOKENS, scoped: { scope: "read", sources: ["shop"] } },
    ));
    endpoint = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        received.push({ headers: req.headers as Record<string, string>, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => endpoint.listen(0, "127.0.0.1", r));
    endpointUrl = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/hook`;
  });
  afterAll(async () => {
    await app?.close();
    endpoint?.close();
    await nc?.close();
    await server?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("every route checks its token's scope itself (OWN_AUTH), so a host's operator guard does not stand in front of it", () => {
    expect(routes.length).toBeGreaterThan(15);
    expect(routes.filter((r) => r.url.startsWith("/v1/") && !r.ownAuth)).toEqual([]);
    // And every one is in the OpenAPI document.
    const paths = Object.keys((app.swagger() as unknown as { paths: Record<string, unknown> }).paths);
    const asOpenApi = (url: string) => url.replace(/:(\w+)/g, "{$1}");
    expect(routes.filter((r) => !paths.includes(asOpenApi(r.url))).map((r) => r.url)).toEqual([]);
  });

  it("sources - created with a server-made secret shown once; read, changed, rotated and refused with codes", async () => {
    const created = await call("admin", "POST", "/v1/sources", { id: "shop", scheme: { type: "standard-webhooks" } });
    expect(created.status).toBe(201);
    conforms("POST", "/v1/sources", 201, created.body);
    const secret = created.body!.secrets[0].value as string;
    expect(secret).toMatch(/^whsec_/);
    secretsSeen.push(secret);

    const shown = await call("reader", "GET", "/v1/sources/shop");
    expect(shown.status).toBe(200);
    conforms("GET", "/v1/sources/{id}", 200, shown.body);
    expect(shown.body!.secrets).toEqual([{ id: "s1", createdAt: expect.any(String) }]);

    expect(
      (await call("admin", "POST", "/v1/sources", { id: "shop", scheme: { type: "stripe" } })).body!.error.code,
    ).toBe("already_exists");
    const badOption = await call("admin", "POST", "/v1/sources", { id: "gh", scheme: { type: "github", prefix: 3 } });
    expect(badOption.status).toBe(400);
    const badSecret = await call("admin", "POST", "/v1/sources", {
      id: "gh",
      scheme: { type: "github" },
      secrets: [{ id: "a", value: "short" }],
    });
    expect(badSecret.body!.error).toMatchObject({ code: "invalid_resource", field: "secrets[0]" });
    expect((await call("admin", "GET", "/v1/sources/gh")).status).toBe(404);

    const stale = await call("admin", "PATCH", "/v1/sources/shop", { toleranceSeconds: 60 }, { "if-match": '"999"' });
    expect(stale.body!.error.code).toBe("revision_conflict");
    const patched = await call("admin", "PATCH", "/v1/sources/shop", { toleranceSeconds: 60 });
    expect(patched.body).toMatchObject({ toleranceSeconds: 60, revision: 2 });
    conforms("PATCH", "/v1/sources/{id}", 200, patched.body);
    expect((await call("admin", "PATCH", "/v1/sources/shop", { scheme: { type: "stripe" } })).body!.error.field).toBe(
      "scheme.type",
    );
    // A field the API does not know (a typo) is refused, not dropped: nothing changes.
    const misspelt = await call("admin", "PATCH", "/v1/sources/shop", { toleranceSeconds: 30, strickt: true });
    expect(misspelt.status).toBe(400);
    expect(misspelt.body!.error).toMatchObject({ code: "invalid_parameter", field: "strickt" });
    expect((await call("reader", "GET", "/v1/sources/shop")).body).toMatchObject({ toleranceSeconds: 60, revision: 2 });

    const added = await call("admin", "POST", "/v1/sources/shop/secrets", { id: "s2" });
    expect(added.status).toBe(201);
    secretsSeen.push(added.body!.value as string);
    expect(
      (await call("admin", "DELETE", "/v1/sources/shop/secrets/s1")).body!.secrets.map((s: { id: string }) => s.id),
    ).toEqual(["s2"]);
    expect((await call("admin", "DELETE", "/v1/sources/shop/secrets/s2")).body!.error.code).toBe("secret_limit");
  });

  it("a change names only what it changes: the settings it leaves out keep their values (no defaults filled in)", async () => {
    await call("admin", "POST", "/v1/sources", {
      id: "strict",
      scheme: { type: "stripe" },
      strict: true,
      maxBodyBytes: 1000,
      secrets: [{ id: "s1", value: "whsec_" + "a".repeat(32) }],
    });
    const patched = await call("admin", "PATCH", "/v1/sources/strict", { toleranceSeconds: 60 });
    expect(patched.body).toMatchObject({ toleranceSeconds: 60, strict: true, maxBodyBytes: 1000 });
    const applied = await call(
      "admin",
      "PATCH",
      "/v1/sources/strict",
      { strict: false },
      { "tributary-managed-by": "apply" },
    );
    expect(applied.body).toMatchObject({ strict: false, toleranceSeconds: 60, managedBy: "apply" });
    expect((await call("admin", "DELETE", "/v1/sources/strict")).status).toBe(204);
  });

  it("whoami - a token learns its id and scope without trying a change", async () => {
    const me = await call("writer", "GET", "/v1/whoami");
    expect(me.body).toEqual({ id: "writer", scope: "write", sources: null });
    conforms("GET", "/v1/whoami", 200, me.body);
  });

  it("scopes - read reads, write changes subscriptions only, admin changes sources; refusals change nothing", async () => {
    expect((await call("reader", "GET", "/v1/sources")).status).toBe(200);
    const refused = await call("reader", "POST", "/v1/subscriptions", { id: "nope", url: endpointUrl });
    expect(refused).toMatchObject({ status: 403, body: { error: { code: "forbidden_scope" } } });
    expect((await call("writer", "DELETE", "/v1/sources/shop")).body!.error.code).toBe("forbidden_scope");
    expect((await call("writer", "GET", "/v1/audit")).status).toBe(403);
    expect((await call("admin", "GET", "/v1/subscriptions/nope")).status).toBe(404);
    expect((await call("admin", "GET", "/v1/sources/shop")).status).toBe(200);
  });

  it("subscriptions - the signing secret once, filters checked when written, pause and resume, rotation with overlap", async () => {
    const bad = await call("writer", "POST", "/v1/subscriptions", { id: "crm", url: endpointUrl, filter: "body.(" });
    expect(bad.body!.error).toMatchObject({ code: "invalid_resource", field: "filter" });
    const created = await call("writer", "POST", "/v1/subscriptions", {
      id: "crm",
      url: endpointUrl,
      sources: ["shop"],
      filter: "body.type = 'order.paid'",
    });
    expect(created.status).toBe(201);
    conforms("POST", "/v1/subscriptions", 201, created.body);
    const signingSecret = created.body!.signingSecret as string;
    secretsSeen.push(signingSecret);

    const tested = await call("writer", "POST", "/v1/subscriptions/crm/test");
    expect(tested.body).toMatchObject({ delivered: true, status: 204 });
    conforms("POST", "/v1/subscriptions/{id}/test", 200, tested.body);
    const got = received.at(-1)!;
    // The reference Standard Webhooks library verifies it with the secret shown at creation.
    expect(new Webhook(signingSecret).verify(got.body, got.headers)).toMatchObject({ type: "tributary.test" });

    // A change names what it changes; null removes an optional setting; the rest stays.
    const unfiltered = await call("writer", "PATCH", "/v1/subscriptions/crm", { filter: null, timeoutMs: 5000 });
    expect(unfiltered.body).toMatchObject({ sources: ["shop"], timeoutMs: 5000 });
    expect(unfiltered.body!.filter).toBeUndefined();
    expect((await call("writer", "PATCH", "/v1/subscriptions/crm", { url: null })).status).toBe(400);

    const paused = await call("writer", "POST", "/v1/subscriptions/crm/pause", { reason: "endpoint migration" });
    expect(paused.body).toMatchObject({ paused: true, pausedReason: "endpoint migration" });
    const resumed = await call("writer", "POST", "/v1/subscriptions/crm/resume");
    expect(resumed.body!.paused).toBe(false);
    expect(resumed.body!.pausedReason).toBeUndefined();

    const rotated = await call("writer", "POST", "/v1/subscriptions/crm/rotate-secret", { overlapSeconds: 3600 });
    expect(rotated.status).toBe(200);
    secretsSeen.push(rotated.body!.signingSecret as string);
    const ids = rotated.body!.subscription.signingSecrets.map((s: { id: string; expiresAt?: string }) => [
      s.id,
      !!s.expiresAt,
    ]);
    expect(ids).toEqual([
      ["k1", true],
      ["k2", false],
    ]);
    // During the overlap both secrets sign: a receiver on either verifies.
    await call("writer", "POST", "/v1/subscriptions/crm/test");
    const both = received.at(-1)!;
    expect(new Webhook(signingSecret).verify(both.body, both.headers)).toBeTruthy();
    expect(new Webhook(rotated.body!.signingSecret as string).verify(both.body, both.headers)).toBeTruthy();

    const listed = await call("reader", "GET", "/v1/subscriptions");
    conforms("GET", "/v1/subscriptions", 200, listed.body);
    expect((await call("writer", "DELETE", "/v1/subscriptions/crm")).status).toBe(204);
    expect((await call("reader", "GET", "/v1/subscriptions/crm")).status).toBe(404);
  });

  it("subscriptions - health: the breaker as the delivery process reported it (unknown once stale), the last hour of the delivery log, the backlog of its consumer", async () => {
    for (const id of ["up", "down"])
      expect((await call("writer", "POST", "/v1/subscriptions", { id, url: endpointUrl })).status).toBe(201);
    // Nothing reported, no attempt, no consumer yet.
    const fresh = await call("reader", "GET", "/v1/subscriptions/up");
    conforms("GET", "/v1/subscriptions/{id}", 200, fresh.body);
    expect(fresh.body!.health).toEqual({
      breaker: "unknown",
      windowSeconds: 3600,
      attempts: 0,
      successRate: null,
      p50Ms: null,
      p95Ms: null,
      backlog: null,
    });

    // The delivery process's reports (apps/delivery health.ts), one of them two minutes old.
    const now = Date.now();
    const iso = (ago: number) => new Date(now - ago).toISOString();
    await store.reportBreaker("up", { state: "closed", since: iso(600_000), reportedAt: iso(2_000) });
    await store.reportBreaker("down", {
      state: "open",
      reason: "5 in a row (HTTP 503)",
      since: iso(30_000),
      reportedAt: iso(120_000),
    });
    statsRows = [
      { destination: "up", attempts: 4, delivered: 4, p50_ms: 12, p95_ms: 40 },
      { destination: "down", attempts: 10, delivered: 2, p50_ms: 30, p95_ms: 5000 },
    ];
    // Three events for "up" on the enriched stream, one handed out and not acked.
    await ensureStream(jsm, enrichedStreamConfig());
    await jsm.consumers.add(ENRICHED_STREAM, {
      durable_name: deliveryConsumerName("up"),
      ack_policy: AckPolicy.Explicit,
    });
    const js = jetstream(nc);
    for (let i = 0; i < 3; i++) await js.publish(`${ENRICHED_PUBLISH_PREFIX}.events.us.shop.order`, `{"n":${i}}`);
    const handed = await (await js.consumers.get(ENRICHED_STREAM, deliveryConsumerName("up"))).next();
    expect(handed).not.toBeNull();

    const listed = await call("reader", "GET", "/v1/subscriptions");
    conforms("GET", "/v1/subscriptions", 200, listed.body);
    const health = Object.fromEntries(
      (listed.body!.data as Array<{ id: string; health: unknown }>).map((s) => [s.id, s.health]),
    );
    expect(health.up).toEqual({
      breaker: "closed",
      breakerSince: iso(600_000),
      reportedAt: iso(2_000),
      windowSeconds: 3600,
      attempts: 4,
      successRate: 1,
      p50Ms: 12,
      p95Ms: 40,
      backlog: { pending: 2, ackPending: 1 },
    });
    // Stale: its process stopped reporting a minute ago, so the open breaker is not claimed.
    expect(health.down).toMatchObject({ breaker: "unknown", reportedAt: iso(120_000), successRate: 0.2, p95Ms: 5000 });
    const since = statsAsked.at(-1)!.since.getTime();
    expect(Math.abs(Date.now() - 3_600_000 - since)).toBeLessThan(10_000);

    await store.reportBreaker("down", {
      state: "open",
      reason: "5 in a row (HTTP 503)",
      since: iso(30_000),
      reportedAt: new Date().toISOString(),
    });
    const down = await call("reader", "GET", "/v1/subscriptions/down");
    expect(down.body!.health).toMatchObject({ breaker: "open", breakerReason: "5 in a row (HTTP 503)", attempts: 10 });
    expect(statsAsked.at(-1)!.destination).toBe("down");

    // A token of some sources reads no figure that spans sources; the rest it reads.
    const scoped = await call("scoped", "GET", "/v1/subscriptions/down");
    expect(scoped.body!.health).toMatchObject({ breaker: "open", attempts: null, successRate: null, p95Ms: null });

    // The delivery log failing leaves its figures null, the read answers.
    const failing = statsAsked.length;
    statsRows = {
      filter: () => {
        throw new Error("warehouse down");
      },
    } as unknown as DeliveryStatsRow[];
    const degraded = await call("reader", "GET", "/v1/subscriptions/up");
    expect(degraded.status).toBe(200);
    expect(degraded.body!.health).toMatchObject({ breaker: "closed", attempts: null, backlog: { pending: 2 } });
    expect(statsAsked.length).toBe(failing + 1);
    statsRows = [];
    for (const id of ["up", "down"]) await call("writer", "DELETE", `/v1/subscriptions/${id}`);
  });

  it("preview - a filter and a transform run in the delivery sandbox on a real event of the hub stream; one that does not compile is refused with its field", async () => {
    await ensureStream(jsm, enrichedStreamConfig());
    const publish = async (key: string, body: unknown) => {
      const location = { key, source: "shop", type: "order.paid", region: "us", receivedAt: new Date().toISOString() };
      const h = headers();
      h.set(EventHeader.OriginalMsgId, key);
      h.set(EventHeader.Source, location.source);
      h.set(EventHeader.EventType, location.type);
      h.set(EventHeader.Region, location.region);
      h.set(EventHeader.ReceivedAt, location.receivedAt);
      const subject = eventSubject(location.region, location.source, location.type);
      await jetstream(nc).publish(`${ENRICHED_PUBLISH_PREFIX}.${subject}`, JSON.stringify(body), { headers: h });
      warehouseEvents.set(key, location);
    };
    const preview = (body: unknown, token = "writer") => call(token, "POST", "/v1/subscriptions/preview", body);
    expect((await preview({ filter: "true" })).body!.error.code).toBe("event_not_found");
    await publish("shop:p1", { type: "order.paid", data: { amount: 42 } });
    await publish("shop:p2", { type: "order.paid", data: { amount: 7 } });

    const bad = await preview({ filter: "body.data.amount >" });
    expect(bad.status).toBe(400);
    expect(bad.body!.error).toMatchObject({ code: "invalid_resource", field: "filter" });
    expect(bad.body!.error.message).toMatch(/^filter: is not a valid JSONata expression .* at \d+\)$/);
    const broken = await preview({ transform: "function transform(event) { return {" });
    expect(broken.body!.error).toMatchObject({ code: "invalid_resource", field: "transform" });
    expect((await preview({ transform: "const x = 1;" })).body!.error.field).toBe("transform");
    expect((await preview({ filter: "true" }, "reader")).body!.error.code).toBe("forbidden_scope");

    // The newest event by default; the transform's output is what the endpoint would be sent.
    const shaped = await preview({
      filter: "body.data.amount > 5",
      transform: "function transform(event) { return { total: event.body.data.amount, key: event.key }; }",
    });
    expect(shaped.status).toBe(200);
    conforms("POST", "/v1/subscriptions/preview", 200, shaped.body);
    expect(shaped.body).toEqual({
      event: { key: "shop:p2", source: "shop", type: "order.paid" },
      matches: true,
      output: JSON.stringify({ total: 7, key: "shop:p2" }),
    });
    expect(await preview({ filter: "body.data.amount > 10" })).toMatchObject({
      body: { matches: false, output: null },
    });
    const chosen = await preview({ filter: "body.data.amount > 10", eventKey: "shop:p1" });
    expect(chosen.body).toMatchObject({
      event: { key: "shop:p1" },
      matches: true,
      output: expect.stringContaining('"amount":42'),
    });
    const failing = await preview({ transform: "function transform(event) { return event.body.nothing.here; }" });
    expect(failing.body).toMatchObject({ matches: false, output: null, failure: { code: "transform_failed" } });
    const unknown = await preview({ filter: "true", eventKey: "shop:nope" });
    expect(unknown.status).toBe(404);
    expect(unknown.body!.error).toMatchObject({ code: "event_not_found", field: "eventKey" });
  });

  it("the audit log - who, what, before and after, in order; readable by admin", async () => {
    const audit = await call("admin", "GET", "/v1/audit?kind=subscriptions&id=crm");
    conforms("GET", "/v1/audit", 200, audit.body);
    const actions = audit.body!.data.map((r: { action: string; actor: string }) => `${r.actor}:${r.action}`);
    expect(actions).toEqual([
      "writer:create",
      "writer:test",
      "writer:update",
      "writer:pause",
      "writer:resume",
      "writer:rotate_secret",
      "writer:test",
      "writer:delete",
    ]);
    const sources = await call("admin", "GET", "/v1/audit?kind=sources");
    expect(sources.body!.data[0]).toMatchObject({ action: "create", kind: "sources", id: "shop", actor: "admin" });
  });

  it("no secret value after its creation response: not in the bucket in clear, the audit stream or the logs", async () => {
    expect(secretsSeen).toHaveLength(4);
    const kv = await new Kvm(jetstream(nc)).open(CONTROL_BUCKET);
    const stored: string[] = [];
    for await (const entry of await kv.history({ key: ">" })) stored.push(entry.string());
    const jsm = await jetstreamManager(nc);
    const auditInfo = await jsm.streams.info("CONTROL_AUDIT");
    const audit: string[] = [];
    for (let seq = 1; seq <= auditInfo.state.last_seq; seq++)
      audit.push(new TextDecoder().decode((await jsm.streams.getMessage("CONTROL_AUDIT", { seq }))!.data));
    expect(stored.length).toBeGreaterThan(0);
    expect(audit.length).toBeGreaterThan(5);
    for (const secret of secretsSeen) {
      const body = secret.replace(/^whsec_/, "");
      for (const text of [...stored, ...audit, ...logs]) expect(text).not.toContain(body);
    }
  });
});
