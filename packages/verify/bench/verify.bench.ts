// ns per verify for a 1 KiB body, one scheme per row: `pnpm bench` (vitest bench --run).
// Requests are signed here with node:crypto (correctness is the tests' job); each case is checked
// once before timing so that a broken fixture cannot benchmark a fast failure by mistake.
// Vitest 5 API: `bench` is a test-context fixture; bench.compare runs the cases one after another.
import { createHmac, generateKeyPairSync, sign } from "node:crypto";
import { expect, test } from "vitest";
import { createScheme, decodeSecret } from "../src/index.js";
import type { HeaderValue, SchemeConfig, SourceSecret, VerifyContext } from "../src/index.js";

const NOW = 1_779_114_720;
const TS = String(NOW);
const ID = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W";
const BODY = (() => {
  const head = '{"event":"link.clicked","id":"evt_0001","data":{"pad":"';
  const tail = '"}}';
  return Buffer.from(head + "x".repeat(1024 - head.length - tail.length) + tail);
})();
if (BODY.length !== 1024) throw new Error("body must be 1 KiB");

const TEXT = "bench-secret-0123456789abcdef0123";
const WHSEC = `whsec_${Buffer.from(TEXT).toString("base64")}`;
const hmacSecret = (id: string, text: string, type: "standard-webhooks" | "stripe"): SourceSecret => ({
  id,
  ...decodeSecret(text, type),
});
const RAW: SourceSecret = { id: "s1", key: Buffer.from(TEXT) };
const STANDARD: SourceSecret = hmacSecret("s1", WHSEC, "standard-webhooks");
const STRIPE: SourceSecret = hmacSecret("s1", WHSEC, "stripe");

const mac = (alg: string, key: Buffer, ...parts: Array<string | Buffer>): Buffer => {
  const h = createHmac(alg, key);
  for (const part of parts) h.update(part);
  return h.digest();
};

const pair = generateKeyPairSync("ed25519");
const PUBLIC: SourceSecret = {
  id: "pk",
  key: Buffer.from(String(pair.publicKey.export({ format: "jwk" }).x), "base64url"),
  kind: "ed25519-public",
};
const standardMac = mac("sha256", STANDARD.key, `${ID}.${TS}.`, BODY).toString("base64");
const v1a = sign(null, Buffer.concat([Buffer.from(`${ID}.${TS}.`), BODY]), pair.privateKey).toString("base64");
const decoys = Array.from({ length: 15 }, (_, i) => `v1,${Buffer.alloc(32, i).toString("base64")}`);

interface Case {
  name: string;
  config: SchemeConfig;
  headers: Record<string, HeaderValue>;
  secrets: SourceSecret[];
  expectOk: boolean;
}

const cases: Case[] = [
  {
    name: "webhook-hmac-sha256 (seed)",
    config: { type: "webhook-hmac-sha256" },
    headers: {
      "x-webhook-signature": mac("sha256", RAW.key, `${TS}.`, BODY).toString("hex"),
      "x-webhook-timestamp": TS,
      "x-webhook-id": ID,
    },
    secrets: [RAW],
    expectOk: true,
  },
  {
    name: "hmac-sha256-body (seed)",
    config: { type: "hmac-sha256-body" },
    headers: { "x-webhook-signature": mac("sha256", RAW.key, BODY).toString("hex") },
    secrets: [RAW],
    expectOk: true,
  },
  {
    name: "standard-webhooks v1",
    config: { type: "standard-webhooks" },
    headers: { "webhook-id": ID, "webhook-timestamp": TS, "webhook-signature": `v1,${standardMac}` },
    secrets: [STANDARD],
    expectOk: true,
  },
  {
    name: "standard-webhooks v1a (ed25519)",
    config: { type: "standard-webhooks" },
    headers: { "webhook-id": ID, "webhook-timestamp": TS, "webhook-signature": `v1a,${v1a}` },
    secrets: [PUBLIC],
    expectOk: true,
  },
  {
    name: "svix",
    config: { type: "svix" },
    headers: { "svix-id": ID, "svix-timestamp": TS, "svix-signature": `v1,${standardMac}` },
    secrets: [STANDARD],
    expectOk: true,
  },
  {
    name: "stripe",
    config: { type: "stripe" },
    headers: { "stripe-signature": `t=${TS},v1=${mac("sha256", STRIPE.key, `${TS}.`, BODY).toString("hex")}` },
    secrets: [STRIPE],
    expectOk: true,
  },
  {
    name: "github",
    config: { type: "github" },
    headers: {
      "x-hub-signature-256": `sha256=${mac("sha256", RAW.key, BODY).toString("hex")}`,
      "x-github-delivery": ID,
    },
    secrets: [RAW],
    expectOk: true,
  },
  {
    name: "shopify",
    config: { type: "shopify" },
    headers: { "x-shopify-hmac-sha256": mac("sha256", RAW.key, BODY).toString("base64"), "x-shopify-webhook-id": ID },
    secrets: [RAW],
    expectOk: true,
  },
  {
    name: "hmac sha512/base64 {id}.{timestamp}.{body}",
    config: {
      type: "hmac",
      signatureHeader: "x-sig",
      timestampHeader: "x-ts",
      idHeader: "x-id",
      algorithm: "sha512",
      encoding: "base64",
      signedContent: "{id}.{timestamp}.{body}",
    },
    headers: { "x-sig": mac("sha512", RAW.key, `${ID}.${TS}.`, BODY).toString("base64"), "x-ts": TS, "x-id": ID },
    secrets: [RAW],
    expectOk: true,
  },
  {
    name: "refused: standard-webhooks, 16 forged v1 × 3 secrets (worst case)",
    config: { type: "standard-webhooks" },
    headers: { "webhook-id": ID, "webhook-timestamp": TS, "webhook-signature": [...decoys, decoys[0]].join(" ") },
    secrets: [STANDARD, { ...STANDARD, id: "s2" }, { ...STANDARD, id: "s3" }],
    expectOk: false,
  },
  {
    name: "refused: standard-webhooks, 4 forged v1a × 2 public keys (worst case)",
    config: { type: "standard-webhooks" },
    headers: {
      "webhook-id": ID,
      "webhook-timestamp": TS,
      "webhook-signature": [0, 1, 2, 3].map((i) => `v1a,${Buffer.alloc(64, i).toString("base64")}`).join(" "),
    },
    secrets: [PUBLIC, { ...PUBLIC, id: "pk2" }],
    expectOk: false,
  },
  {
    name: "refused: standard-webhooks, stale timestamp (no crypto)",
    config: { type: "standard-webhooks" },
    headers: { "webhook-id": ID, "webhook-timestamp": String(NOW - 3600), "webhook-signature": `v1,${standardMac}` },
    secrets: [STANDARD],
    expectOk: false,
  },
];

/** Keeps the result alive so the engine cannot drop the call as dead code. */
let sink: unknown;

test("verify, 1 KiB body, one active secret unless stated", async ({ bench }) => {
  const registrations = cases.map((c) => {
    const scheme = createScheme(c.config);
    const req = { headers: c.headers, rawBody: BODY };
    const ctx: VerifyContext = { secrets: c.secrets, toleranceSeconds: 300, nowSeconds: NOW };
    expect(scheme.verify(req, ctx).ok, c.name).toBe(c.expectOk);
    return bench(c.name, () => {
      sink = scheme.verify(req, ctx);
    });
  });
  const results = await bench.compare(...registrations, { time: 1000, warmupTime: 200 });

  // One line per case in ns per verify (latency in tinybench is in milliseconds), for BENCH.md.
  const rows = cases.map((c) => {
    const r = results.get(c.name);
    const ns = (ms: number | undefined) => (ms === undefined ? "n/a" : String(Math.round(ms * 1e6)));
    return `| ${c.name} | ${ns(r.latency.mean)} | ${ns(r.latency.p50)} | ${ns(r.latency.p99)} | ${r.latency.samplesCount} |`;
  });
  console.log(["| case | mean ns | p50 ns | p99 ns | samples |", "|---|---:|---:|---:|---:|", ...rows].join("\n"));
  expect(sink).toBeDefined();
});
