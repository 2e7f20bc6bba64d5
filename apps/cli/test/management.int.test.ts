import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import Fastify, { type FastifyInstance } from "fastify";
import { Webhook } from "standardwebhooks";
import { jetstream, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { ControlStore, SealingKeys } from "@tributary/control";
import { queryApiPlugin } from "@tributary/query-api";
import {
  auditStreamConfig,
  connectNats,
  DELIVERY_REPLAY_STREAM,
  deliveryReplayStreamConfig,
  ensureStream,
  eventSubject,
  ENRICHED_STREAM,
  publishEvent,
} from "@tributary/streams";
import { startNatsServer, type NatsServer } from "@tributary/testkit";
import type { EventQueries } from "@tributary/warehouse";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const run = promisify(execFile);

const TOKENS = {
  read: "read-token-0123456789abcdef",
  write: "write-token-0123456789abcdef",
  admin: "admin-token-0123456789abcdef",
} as const;
type Scope = keyof typeof TOKENS;

/** Where the test events are, as the warehouse would say (what resend by key asks for). */
const EVENTS = ["e1", "e2", "e3"].map((id) => ({
  key: `demo:${id}`,
  source: "demo",
  type: "link.clicked",
  region: "us",
  receivedAt: new Date().toISOString(),
}));

/** The query API's host part: only getEvent answers (resend by key); the control routes are real. */
const queries: EventQueries = {
  listEvents: () => Promise.resolve({ rows: [], hasMore: false }),
  getEvent: (key) => {
    const e = EVENTS.find((x) => x.key === key);
    return Promise.resolve(
      e
        ? ({
            event_key: e.key,
            source: e.source,
            event_type: e.type,
            region: e.region,
            received_at: e.receivedAt,
          } as any)
        : undefined,
    );
  },
  analytics: () => Promise.resolve([]),
  revenue: () => Promise.resolve([]),
  freshness: () => Promise.resolve(null),
};

describe("management commands (sources, subscriptions, config) against the management API", () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let api: FastifyInstance;
  let receiver: FastifyInstance;
  let apiUrl = "";
  let hookUrl = "";
  const received: Array<{ headers: Record<string, string>; body: string }> = [];
  const dir = mkdtempSync(join(tmpdir(), "tributary-cli-management-"));

  /** Runs the built CLI against the API with a token of `scope`; never throws on exit ≠ 0. */
  async function tributary(
    scope: Scope | "none",
    args: string[],
    env: Record<string, string> = {},
  ): Promise<{ code: number; stdout: string; stderr: string }> {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    delete childEnv.TRIBUTARY_API_URL;
    if (scope === "none") delete childEnv.TRIBUTARY_API_TOKEN;
    else childEnv.TRIBUTARY_API_TOKEN = TOKENS[scope];
    try {
      const { stdout, stderr } = await run(process.execPath, [MAIN, "--api-url", apiUrl, ...args], {
        env: childEnv,
        timeout: 30_000,
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === "number" ? e.code : 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
    }
  }
  async function json<T = any>(scope: Scope, ...args: string[]): Promise<T> {
    const r = await tributary(scope, ["--json", ...args]);
    if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  }
  const file = (name: string, content: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
    return path;
  };
  const replayed = async () => (await jsm.streams.info(DELIVERY_REPLAY_STREAM)).state.messages;

  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connectNats({ servers: [nats.url], name: "management-test" });
    const js = jetstream(nc);
    jsm = await jetstreamManager(nc);
    const store = await ControlStore.hub(js);
    await ensureStream(jsm, auditStreamConfig() as Parameters<typeof ensureStream>[1]);
    // The hub stream with three events, and the stream resends go to (what the delivery process reads).
    await ensureStream(jsm, { name: ENRICHED_STREAM, subjects: ["events.>"] });
    await ensureStream(jsm, deliveryReplayStreamConfig());
    for (const e of EVENTS)
      await publishEvent(js, {
        subject: eventSubject(e.region, e.source, e.type),
        body: Buffer.from(JSON.stringify({ event_id: e.key })),
        eventKey: e.key,
        source: e.source,
        region: e.region,
        eventType: e.type,
        receivedAt: new Date(e.receivedAt),
      });

    receiver = Fastify();
    receiver.addContentTypeParser("application/json", { parseAs: "string" }, (_r, body, done) => done(null, body));
    receiver.post("/hooks", async (request, reply) => {
      received.push({ headers: request.headers as Record<string, string>, body: request.body as string });
      return reply.code(204).send();
    });
    hookUrl = `${await receiver.listen({ host: "127.0.0.1", port: 0 })}/hooks`;

    api = Fastify();
    await api.register(queryApiPlugin, {
      queries,
      tokens: (Object.keys(TOKENS) as Scope[]).map((scope) => ({
        id: `${scope}-token`,
        token: TOKENS[scope],
        sources: ["*"],
        scope,
      })),
      rateLimit: { max: 10_000, windowMs: 60_000 },
      control: {
        connection: () => ({ store, js, jsm }),
        keys: SealingKeys.parse(`k1:${randomBytes(32).toString("base64")}`, "test"),
        allowPrivate: ["127.0.0.0/8"],
      },
    });
    apiUrl = await api.listen({ host: "127.0.0.1", port: 0 });
  });

  afterAll(async () => {
    await api?.close();
    await receiver?.close();
    await nc?.close();
    await nats?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("help - the groups list their commands, and a missing argument is a usage error (exit 2)", async () => {
    const [root, sources, subs, noUrl] = await Promise.all([
      tributary("none", ["--help"]),
      tributary("none", ["sources", "--help"]),
      tributary("none", ["subscriptions", "--help"]),
      tributary("write", ["subscriptions", "create", "x"]),
    ]);
    for (const group of ["sources", "subscriptions", "config"]) expect(root.stdout).toContain(group);
    expect(root.stdout).toContain("--api-url");
    expect(sources.stdout).toMatch(
      /list[\s\S]*show[\s\S]*create[\s\S]*update[\s\S]*delete[\s\S]*add-secret[\s\S]*retire-secret/,
    );
    expect(subs.stdout).toMatch(/pause[\s\S]*resume[\s\S]*rotate-secret[\s\S]*test[\s\S]*resend[\s\S]*resend-bulk/);
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toContain("--url is required");
  });

  it("sources - create shows a made secret once; list, show and update never show one; update keeps what it does not name; secrets rotate; delete", async () => {
    const hmac = randomBytes(32).toString("hex");
    const shopFile = file("shop.json", { scheme: { type: "webhook-hmac-sha256" }, maxBodyBytes: 4096 });
    const [made, shop] = await Promise.all([
      tributary("admin", ["sources", "create", "demo", "--scheme", "standard-webhooks"]),
      tributary(
        "admin",
        ["sources", "create", "shop", "--from-file", shopFile, "--secret-env", "SHOP_SECRET", "--tolerance", "120"],
        { SHOP_SECRET: hmac },
      ),
    ]);
    expect(made.code).toBe(0);
    expect(made.stdout).toContain("SHOWN ONCE");
    const secret = /s1: (whsec_\S+)/.exec(made.stdout)![1]!;
    expect(shop.code).toBe(0);
    expect(shop.stdout).not.toContain("SHOWN ONCE"); // we gave the value: nothing to show

    // An update names one setting; the others stay as they were (maxBodyBytes 4096, not its default).
    const [list, shown] = await Promise.all([
      json<any[]>("read", "sources", "list"),
      tributary("admin", ["sources", "update", "shop", "--tolerance", "60"]).then(() =>
        json("read", "sources", "show", "shop"),
      ),
    ]);
    expect(list.map((s) => [s.id, s.scheme.type, s.secrets.map((x: any) => x.id)])).toEqual([
      ["demo", "standard-webhooks", ["s1"]],
      ["shop", "webhook-hmac-sha256", ["s1"]],
    ]);
    expect([shown.toleranceSeconds, shown.maxBodyBytes, shown.managedBy]).toEqual([60, 4096, "api"]);

    const added = await tributary("admin", ["sources", "add-secret", "demo", "s2"]);
    expect(added.stdout).toMatch(/SHOWN ONCE[\s\S]*s2: whsec_/);
    const retired = await json("admin", "sources", "retire-secret", "demo", "s1");
    expect(retired.secrets.map((s: any) => s.id)).toEqual(["s2"]);
    const last = await tributary("admin", ["sources", "retire-secret", "demo", "s2"]);
    expect(last.code).toBe(1);
    expect(last.stderr).toMatch(/last secret.*secret_limit/);

    const texts = await Promise.all([
      tributary("read", ["sources", "list"]),
      tributary("read", ["sources", "show", "demo"]),
      tributary("read", ["--json", "sources", "show", "shop"]),
      tributary("read", ["config", "export"]),
    ]);
    for (const t of texts) {
      expect(t.code).toBe(0);
      expect(t.stdout).not.toContain(secret);
      expect(t.stdout).not.toContain(hmac);
      expect(t.stdout).not.toMatch(/whsec_|"value"/);
    }
    const gone = await tributary("admin", ["sources", "delete", "shop"]);
    expect(gone.code).toBe(0);
    const missing = await tributary("read", ["sources", "show", "shop"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no source shop");
  });

  it("subscriptions - create shows the signing secret once; update keeps the rest; pause, resume, rotate, a signed test send; delete", async () => {
    const made = await tributary("write", [
      "subscriptions",
      "create",
      "crm",
      "--url",
      hookUrl,
      "--source",
      "demo",
      "--type",
      "link.clicked",
      "--type",
      "link.opened",
    ]);
    expect(made.code).toBe(0);
    const first = /SHOWN ONCE[\s\S]*: (whsec_\S+)/.exec(made.stdout)![1]!;

    await json("write", "subscriptions", "update", "crm", "--filter", "body.event_id != 'x'");
    const shown = await json("read", "subscriptions", "show", "crm");
    expect([shown.sources, shown.types, shown.filter]).toEqual([
      ["demo"],
      ["link.clicked", "link.opened"],
      "body.event_id != 'x'",
    ]);

    const paused = await tributary("write", ["subscriptions", "pause", "crm", "--reason", "maintenance"]);
    expect(paused.stdout).toContain("paused crm: maintenance");
    expect((await json("write", "subscriptions", "resume", "crm")).paused).toBe(false);

    const rotated = await tributary("write", ["subscriptions", "rotate-secret", "crm", "--overlap-seconds", "600"]);
    expect(rotated.stdout).toMatch(/new signing secret k2[\s\S]*k1 signs until/);
    const second = /SHOWN ONCE[\s\S]*k2: (whsec_\S+)/.exec(rotated.stdout)![1]!;

    const test = await tributary("write", ["subscriptions", "test", "crm"]);
    expect(test.code).toBe(0);
    expect(test.stdout).toMatch(/delivered \(HTTP 204/);
    const got = received.at(-1)!;
    for (const key of [first, second]) expect(() => new Webhook(key).verify(got.body, got.headers)).not.toThrow();

    for (const t of await Promise.all([
      tributary("read", ["subscriptions", "list"]),
      tributary("read", ["--json", "subscriptions", "show", "crm"]),
    ])) {
      expect(t.stdout).not.toContain(first);
      expect(t.stdout).not.toContain(second);
    }
    expect((await tributary("write", ["subscriptions", "delete", "crm"])).code).toBe(0);
    expect((await json("read", "subscriptions", "list")).map((s: any) => s.id)).not.toContain("crm");
  });

  it("resend - one event by key, and a range: a dry run counts, --yes resends", async () => {
    await json("write", "subscriptions", "create", "audit", "--url", hookUrl, "--source", "demo");
    const before = await replayed();
    const one = await json("write", "subscriptions", "resend", "audit", "--key", "demo:e2");
    expect(one).toMatchObject({ key: "demo:e2", hubSeq: 2 });
    expect(await replayed()).toBe(before + 1);

    const range = [
      "--from",
      new Date(Date.now() - 3600_000).toISOString(),
      "--to",
      new Date(Date.now() + 60_000).toISOString(),
    ];
    const dry = await tributary("write", ["subscriptions", "resend-bulk", "audit", ...range]);
    expect(dry.stdout).toMatch(/dry run: 3 events would be resent to audit/);
    expect(await replayed()).toBe(before + 1);
    const done = await json("write", "subscriptions", "resend-bulk", "audit", ...range, "--yes");
    expect(done).toMatchObject({ dryRun: false, matched: 3, resent: 3 });
    expect(await replayed()).toBe(before + 4);

    const unknown = await tributary("write", ["subscriptions", "resend", "audit", "--key", "demo:nope"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no event demo:nope");
    await json("write", "subscriptions", "delete", "audit");
  });

  it("scopes - a read token's change is refused with the scope it needs (exit 1); a write token changes subscriptions, not sources; no token is told how to send one", async () => {
    const [asRead, asWrite, anonymous] = await Promise.all([
      tributary("read", ["subscriptions", "create", "nope", "--url", hookUrl]),
      tributary("write", ["sources", "create", "nope", "--scheme", "github"]),
      tributary("none", ["sources", "list"]),
    ]);
    expect(asRead.code).toBe(1);
    expect(asRead.stderr).toMatch(/token read-token has scope read; this needs write \(403 forbidden_scope\)/);
    expect(asWrite.code).toBe(1);
    expect(asWrite.stderr).toMatch(/has scope write; this needs admin/);
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toMatch(/wants a token \(401\).*TRIBUTARY_API_TOKEN/);
    expect((await json("read", "subscriptions", "list")).map((s: any) => s.id)).not.toContain("nope");
  });

  it("config - apply creates, a second apply changes nothing, diff shows drift made through the API, apply restores it, secrets never printed, --prune deletes", async () => {
    const webSecret = `whsec_${randomBytes(32).toString("base64")}`;
    const declared = {
      sources: { web: { scheme: { type: "standard-webhooks" }, secrets: [{ id: "s1", env: "WEB_SECRET" }] } },
      subscriptions: { hook: { url: hookUrl, sources: ["web"], types: ["link.clicked"], retry: { maxAttempts: 3 } } },
    };
    const desired = file("tributary.json", declared);
    const env = { WEB_SECRET: webSecret };
    const config = (verb: string, ...more: string[]) =>
      tributary("admin", ["config", verb, "--file", desired, ...more], env);

    const before = await config("diff");
    expect(before.code).toBe(1);
    expect(before.stdout).toMatch(/\+ create sources\/web[\s\S]*\+ create subscriptions\/hook/);
    const secretsDir = join(dir, "secrets");
    const first = await config("apply", "--secrets-dir", secretsDir);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/sources\/web: created with secrets s1/);
    expect(first.stdout).toMatch(/subscriptions\/hook: created; secret written to/);
    const written = readdirSync(secretsDir);
    expect(written).toEqual(["subscriptions.hook.k1.secret"]);
    expect(statSync(join(secretsDir, written[0]!)).mode & 0o777).toBe(0o600);
    const signing = readFileSync(join(secretsDir, written[0]!), "utf8").trim();
    for (const out of [before, first]) {
      expect(out.stdout + out.stderr).not.toContain(webSecret);
      expect(out.stdout + out.stderr).not.toContain(signing);
    }

    const [second, clean] = await Promise.all([config("apply"), config("diff")]);
    expect([second.code, second.stdout.trim()]).toEqual([0, "nothing to change: the API matches the file"]);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toContain("no changes");

    // Drift: someone changes the subscription through the API.
    await json("write", "subscriptions", "update", "hook", "--type", "link.opened");
    const drift = await tributary("admin", ["--json", "config", "diff", "--file", desired], env);
    expect(drift.code).toBe(1);
    const plan = JSON.parse(drift.stdout);
    expect(plan.changes).toBe(1);
    expect(plan.resources.find((r: any) => r.id === "hook")).toMatchObject({
      action: "update",
      fields: [{ field: "types", from: ["link.opened"], to: ["link.clicked"] }],
    });
    const restored = await config("apply");
    expect(restored.stdout).toMatch(/subscriptions\/hook: set types/);
    const hook = await json("read", "subscriptions", "show", "hook");
    expect([hook.types, hook.retry.maxAttempts]).toEqual([["link.clicked"], 3]);
    // The last writer is recorded: the API's update said api, the apply that restored it says apply.
    expect(hook.managedBy).toBe("apply");

    // A secret the file adds is read from its file reference and added; never printed.
    const s2 = `whsec_${randomBytes(32).toString("base64")}`;
    (declared.sources.web.secrets as any[]).push({ id: "s2", file: file("s2.secret", `${s2}\n`) });
    file("tributary.json", declared);
    expect((await config("diff")).stdout).toMatch(/~ update sources\/web\n\s+add secret s2/);
    const rotated = await config("apply");
    expect(rotated.stdout).toMatch(/sources\/web: added secret s2/);
    expect(rotated.stdout).not.toContain(s2);
    expect((await json("read", "sources", "show", "web")).secrets.map((s: any) => s.id)).toEqual(["s1", "s2"]);

    // Resources the file does not name: kept (a note), until --prune.
    await json("write", "subscriptions", "create", "extra", "--url", hookUrl);
    const [kept, pruneDiff] = await Promise.all([config("diff"), config("diff", "--prune")]);
    expect([kept.code, kept.stdout]).toEqual([
      0,
      expect.stringMatching(/subscriptions\/extra\n\s+note: not in the file: kept/),
    ]);
    expect(pruneDiff.stdout).toMatch(/- delete subscriptions\/extra/);
    const pruned = await config("apply", "--prune");
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toMatch(/subscriptions\/extra: deleted/);
    const [after, settled] = await Promise.all([json("read", "subscriptions", "list"), config("diff", "--prune")]);
    expect(after.map((s: any) => s.id)).toEqual(["hook"]);
    expect(settled.code).toBe(0);
  });

  it("config - export applies back as it is, and a setting the API cannot remove is reported (exit 1)", async () => {
    const out = join(dir, "export.json");
    expect((await tributary("read", ["config", "export", "--out", out])).code).toBe(0);
    const exported = JSON.parse(readFileSync(out, "utf8"));
    expect(exported.sources.web.secrets).toEqual([
      { id: "s1", env: "TRIBUTARY_SOURCE_WEB_S1" },
      { id: "s2", env: "TRIBUTARY_SOURCE_WEB_S2" },
    ]);
    const again = await tributary("admin", ["config", "apply", "--file", out]);
    expect([again.code, again.stdout.trim()]).toEqual([0, "nothing to change: the API matches the file"]);

    // A delivery config file applies as it is: its destinations are subscriptions; what is not the API's is noted.
    const delivery = file("delivery.json", {
      nats: { servers: ["nats://127.0.0.1:4222"] },
      destinations: [
        {
          name: "hook",
          url: hookUrl,
          sources: ["web"],
          types: ["link.clicked"],
          retry: { maxAttempts: 3 },
          signing: { type: "standard-webhooks", secrets: [{ id: "a", env: "HOOK_SECRET" }] },
        },
      ],
    });
    const asDelivery = await tributary("read", ["config", "diff", "--file", delivery]);
    expect(asDelivery.code).toBe(0);
    expect(asDelivery.stdout).toMatch(
      /ignored \(not sources or subscriptions\): nats[\s\S]*signing.secrets are not applied/,
    );

    await json("write", "subscriptions", "update", "hook", "--filter", "true");
    const cannot = await tributary("admin", ["config", "apply", "--file", join(dir, "tributary.json")]);
    expect(cannot.code).toBe(1);
    expect(cannot.stdout).toMatch(
      /NOT APPLIED: subscriptions\/hook: filter is "true" in the API and not set in the file/,
    );
  });
});
