import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { freePorts, signWebhook } from "@tributary/testkit";
import { makeEvent } from "../k6/lib/payload.js";
import { startLocalSystem, type LocalSystem } from "../src/system.js";
import { findTier, loadTiers, requestRate } from "../src/tiers.js";

const K6_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../k6");
const TIER = "100-1k";

interface K6Script {
  options: {
    scenarios: Record<string, { executor: string; rate: number; timeUnit: string; duration: string }>;
    thresholds: Record<string, string[]>;
  };
  setup(): { run: string };
  default(data: { run: string }): void;
}
interface K6Request {
  batchRequest(input: {
    baseUrl: string;
    source: string;
    secret: string;
    bodies: string[];
    timestampSeconds: number;
  }): { url: string; body: string; headers: Record<string, string> };
  batchItemKey(source: string, item: string): string;
}

type Shims = {
  http: typeof import("./k6-shim/http.js");
  k6: typeof import("./k6-shim/k6.js");
  execution: typeof import("./k6-shim/execution.js");
};

/** The shim instances the script just loaded (vi.resetModules() makes new ones), through the same aliases. */
async function shims(): Promise<Shims> {
  const load = (spec: string) => import(/* @vite-ignore */ spec);
  return { http: await load("k6/http"), k6: await load("k6"), execution: await load("k6/execution") } as Shims;
}

/** Loads the k6 script as k6 would: init code runs with __ENV, __VU and open() in scope. */
async function loadScript(env: Record<string, string>): Promise<K6Script> {
  Object.assign(globalThis, {
    __ENV: env,
    __VU: 1,
    open: (path: string) => readFileSync(resolve(K6_DIR, path), "utf8"),
  });
  return (await import(/* @vite-ignore */ new URL("../k6/tributary.js", import.meta.url).href)) as K6Script;
}

describe("k6 script contract (the script's own code under a shim of k6's modules, against the real gateway)", () => {
  let system: LocalSystem;
  let baseUrl: string;

  beforeAll(async () => {
    system = await startLocalSystem();
    baseUrl = system.topology.regions.get("us")!.gatewayUrl;
  });
  afterAll(async () => {
    await system?.stop();
  });

  it("options - one constant-arrival-rate scenario with the tier's rate and thresholds from tiers.json", async () => {
    vi.resetModules();
    const script = await loadScript({ BASE_URL: baseUrl, SECRET: system.secret, TIER });
    const tier = findTier(loadTiers(), TIER);
    const s = script.options.scenarios[TIER]!;
    expect(s.executor).toBe("constant-arrival-rate");
    expect(s.rate / 60).toBeCloseTo(requestRate(tier), 0);
    expect(s.timeUnit).toBe("1m");
    expect(s.duration).toBe(`${tier.durationSeconds}s`);
    expect(script.options.thresholds.http_req_failed).toEqual([`rate<${tier.thresholds.errorRate}`]);
    expect(script.options.thresholds.http_req_duration).toEqual([
      `p(95)<${tier.thresholds.ackP95Ms}`,
      `p(99)<${tier.thresholds.ackP99Ms}`,
    ]);
  });

  it("requests - every request the default function sends is accepted by the real gateway, signed as an independent signer signs it", async () => {
    vi.resetModules();
    const script = await loadScript({ BASE_URL: baseUrl, SECRET: system.secret, TIER, SEED: "3" });
    const {
      http: { calls },
      k6: { checks },
      execution: { scenario },
    } = await shims();
    const data = script.setup();
    expect(calls[0]).toMatchObject({ method: "GET", url: `${baseUrl}/readyz`, response: { status: 200 } });
    checks.passed = checks.failed = 0;
    for (let i = 0; i < 30; i++) {
      scenario.iterationInTest = i;
      script.default(data);
    }
    const posts = calls.filter((c) => c.method === "POST");
    expect(posts).toHaveLength(30);
    expect(checks).toEqual({ passed: 30, failed: 0 });
    for (const call of posts) {
      expect([200, 202]).toContain(call.response.status);
      if (!call.url.endsWith("/events")) continue;
      // Same body, same timestamp: the testkit's signer (written apart from the script and the
      // gateway's verifier) must produce the very signature the script sent.
      const independent = signWebhook({
        secret: system.secret,
        body: call.body!,
        timestamp: Number(call.headers["x-webhook-timestamp"]),
        deliveryId: call.headers["x-webhook-id"]!,
      });
      expect(call.headers["x-webhook-signature"]).toBe(independent["x-webhook-signature"]);
      expect((JSON.parse(call.response.body) as { event_key: string }).event_key).toBe(
        `demo:${call.headers["x-webhook-id"]}`,
      );
    }
    // The gateway verifies what the script signs: one changed byte is refused, nothing stored.
    const first = posts.find((c) => c.url.endsWith("/events"))!;
    const tampered = await fetch(first.url, {
      method: "POST",
      headers: first.headers,
      body: first.body!.replace("link", "lInk"),
    });
    expect(tampered.status).toBe(401);
    expect(((await tampered.json()) as { error: { code: string } }).error.code).toBe("signature_mismatch");
  });

  it("batch - an NDJSON batch built by the script's builder is accepted whole, each item keyed as batchItemKey predicts", async () => {
    vi.resetModules();
    await loadScript({ BASE_URL: baseUrl, SECRET: system.secret, TIER });
    const builder = (await import(
      /* @vite-ignore */ new URL("../k6/lib/request.js", import.meta.url).href
    )) as K6Request;
    const now = new Date();
    const bodies = ["link.clicked", "install.tracked", "referral.completed", "link.conversion"].map((type, seq) =>
      makeEvent({ type, id: `k6-batch-${now.getTime()}-${seq}`, seq, run: "contract", bytes: 600, now }),
    );
    const req = builder.batchRequest({
      baseUrl,
      source: "demo",
      secret: system.secret,
      bodies,
      timestampSeconds: Math.floor(now.getTime() / 1000),
    });
    const res = await fetch(req.url, { method: "POST", headers: req.headers, body: req.body });
    expect(res.status).toBe(202);
    const answer = (await res.json()) as { accepted: number; items: Array<{ status: string; event_key: string }> };
    expect(answer.accepted).toBe(bodies.length);
    expect(answer.items.map((i) => i.event_key)).toEqual(bodies.map((b) => builder.batchItemKey("demo", b)));
    // …which is also the key the local driver predicts: the body's event_id.
    expect(answer.items.map((i) => i.event_key)).toEqual(
      bodies.map((b) => `demo:${(JSON.parse(b) as { event_id: string }).event_id}`),
    );
  });

  it("setup - aborts the test when the target is not ready", async () => {
    vi.resetModules();
    const [closed] = await freePorts(1);
    const script = await loadScript({ BASE_URL: `http://127.0.0.1:${closed}`, SECRET: system.secret, TIER });
    expect(() => script.setup()).toThrow(/not ready/);
  });
});
