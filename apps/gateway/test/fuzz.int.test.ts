import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { signWebhook } from "@tributary/testkit";
import { SECRET, startGateway, type GatewayUnderTest } from "./helpers.js";

const REFUSALS = new Set([400, 401, 404, 413, 415, 422]);

/** Hostile header values: empty, huge, non-numeric, many signatures, odd unicode. */
const headerValue = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constant(""),
  fc.constant("x".repeat(4000)),
  fc.constant(Array.from({ length: 300 }, () => "deadbeef").join(" ")),
  fc.integer().map(String),
  fc.constant("99999999999999999999"),
  fc.constant("NaN"),
  fc.constant("-1"),
);

/** Bodies that are never a valid event: garbage, wrong shapes, hostile JSON. */
const hostileBody = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  fc.string({ maxLength: 200 }).map((s) => Buffer.from(s)),
  fc
    .jsonValue({ maxDepth: 4 })
    .filter((v) => typeof v !== "object" || v === null || Array.isArray(v))
    .map((v) => Buffer.from(JSON.stringify(v) ?? "null")),
  fc.constant(Buffer.from('{"__proto__":{"polluted":true},"event":"link.clicked","data":{}}')),
  fc.constant(Buffer.from('{"event":"link.clicked","data":{"constructor":{"prototype":{"x":1}}}}')),
  fc.constant(Buffer.from(`{"event":"link.clicked","data":${"[".repeat(5000)}${"]".repeat(5000)}}`)),
  fc.constant(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf]), Buffer.from('{"event":"x"}')])),
  fc.constant(Buffer.from('{"event":"link clicked>","data":{}}')),
  fc.constant(Buffer.from('{"event":"link.clicked","data":{"link_id":42}}')),
  fc.constant(Buffer.from('{"event":"link.clicked","timestamp":"yesterday","data":{}}')),
  fc.constant(Buffer.from([0xc3, 0x28, 0x7b, 0x7d])),
  fc.constant(Buffer.from('{"event":"\\ud800","data":{}}')),
);

describe("gateway fuzz", () => {
  let gw: GatewayUnderTest;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterAll(async () => {
    await gw?.close();
  });

  it("fuzz - thousands of malformed requests: only 4xx with a code, no crash, nothing stored, memory bounded", async () => {
    const before = await gw.streamMessages();
    const heapBefore = process.memoryUsage().heapUsed;
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        hostileBody,
        fc.boolean(), // sign the body correctly (then the body itself must be refused)
        fc.record({
          "x-webhook-signature": fc.option(headerValue, { nil: undefined }),
          "x-webhook-timestamp": fc.option(headerValue, { nil: undefined }),
          "x-webhook-id": fc.option(headerValue, { nil: undefined }),
          "content-type": fc.constantFrom(
            "application/json",
            "application/cloudevents+json",
            "text/plain",
            "application/json; charset=utf-8",
          ),
        }),
        fc.constantFrom("demo", "demo", "demo", "nobody", "..%2F", "DEMO"),
        async (body, signCorrectly, randomHeaders, source) => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(randomHeaders)) if (v !== undefined) headers[k] = v;
          if (signCorrectly)
            Object.assign(headers, signWebhook({ secret: SECRET, body }), { "content-type": headers["content-type"]! });
          const res = await fetch(`${gw.url}/v1/sources/${source}/events`, { method: "POST", headers, body });
          const json = (await res.json()) as { error?: { code?: string } };
          seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
          return REFUSALS.has(res.status) && typeof json.error?.code === "string";
        },
      ),
      { numRuns: 1500 },
    );
    expect(await gw.streamMessages()).toBe(before);
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(100 * 1024 * 1024);
    // The run reached past the cheap refusals, into verification and parsing.
    expect(seen.get(401)).toBeGreaterThan(0);
    expect((seen.get(400) ?? 0) + (seen.get(422) ?? 0)).toBeGreaterThan(0);
  }, 120_000);
});
