import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SCHEME_TYPES, VERIFY_FAILURE_CODES, createScheme } from "../src/index.js";
import type { HeaderValue, SchemeConfig, SourceSecret } from "../src/index.js";
import { CURRENT, NOW, ctx, ed25519KeyPair } from "./fixtures.js";

// Random requests against every scheme: whatever the headers and body, verify returns a failure
// with a catalogued code — it never throws and never verifies. Signatures here are random, so a
// pass would mean a forgery (2^-256 by chance).

const failureOf = (code: keyof typeof VERIFY_FAILURE_CODES) => ({ code, message: VERIFY_FAILURE_CODES[code].message });

const PUBLIC_KEY: SourceSecret = { id: "pk", key: ed25519KeyPair().publicKey, kind: "ed25519-public" };
const SECRETS = [CURRENT, PUBLIC_KEY];

/** Every header name any scheme reads, so random values land where they are parsed. */
const HEADER_NAMES = [
  "x-webhook-signature",
  "x-webhook-timestamp",
  "x-webhook-id",
  "webhook-signature",
  "webhook-timestamp",
  "webhook-id",
  "svix-signature",
  "svix-timestamp",
  "svix-id",
  "stripe-signature",
  "x-hub-signature-256",
  "x-github-delivery",
  "x-shopify-hmac-sha256",
  "x-shopify-webhook-id",
  "x-signature",
  "x-timestamp",
  "x-id",
];

const bytes = (length: number) => fc.uint8Array({ minLength: length, maxLength: length }).map((b) => Buffer.from(b));
const b64 = (length: number) => bytes(length).map((b) => b.toString("base64"));
const hex = (length: number) => bytes(length).map((b) => b.toString("hex"));
const nearNow = fc.integer({ min: NOW - 400, max: NOW + 400 }).map(String);

/** Values shaped like real headers (so parsing gets past the format checks) mixed with junk. */
const headerValue: fc.Arbitrary<HeaderValue> = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary", maxLength: 64 }),
  fc.string({ maxLength: 1100 }),
  fc.constant(undefined),
  fc.array(fc.string(), { maxLength: 3 }),
  nearNow,
  fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }).map(String),
  hex(32),
  hex(64),
  b64(32),
  b64(64),
  hex(32).map((h) => `sha256=${h}`),
  fc
    .array(
      fc.oneof(
        b64(32).map((s) => `v1,${s}`),
        b64(64).map((s) => `v1a,${s}`),
        fc.string(),
      ),
      { maxLength: 20 },
    )
    .map((entries) => entries.join(" ")),
  fc
    .tuple(nearNow, fc.array(hex(32), { maxLength: 20 }))
    .map(([t, sigs]) => [`t=${t}`, ...sigs.map((s) => `v1=${s}`)].join(",")),
);

const headers = fc.dictionary(fc.oneof(fc.constantFrom(...HEADER_NAMES), fc.string()), headerValue, { maxKeys: 12 });
const body = fc.oneof(
  fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b)),
  fc.json().map((j) => Buffer.from(j)),
);

const CONFIGS: SchemeConfig[] = SCHEME_TYPES.map((type) =>
  type === "hmac"
    ? {
        type,
        signatureHeader: "x-signature",
        timestampHeader: "x-timestamp",
        idHeader: "x-id",
        signedContent: "{id}.{timestamp}.{body}",
      }
    : ({ type } as SchemeConfig),
);

/** Up to 12 `v1` and up to 4 `v1a` entries (the caps), in random order. */
const v1List = fc
  .tuple(
    fc.array(
      b64(32).map((x) => `v1,${x}`),
      { maxLength: 12 },
    ),
    fc.array(
      b64(64).map((x) => `v1a,${x}`),
      { maxLength: 4 },
    ),
  )
  .filter(([v1, v1a]) => v1.length + v1a.length > 0)
  .chain(([v1, v1a]) => fc.shuffledSubarray([...v1, ...v1a], { minLength: v1.length + v1a.length }))
  .map((entries) => entries.join(" "));
const inWindow = fc.integer({ min: NOW - 300, max: NOW + 300 }).map(String);
const printable = fc.string({ minLength: 1, maxLength: 40 }).filter((x) => x.trim() === x && x !== "");

/** Requests with every header a scheme needs, well-formed, in the time window — only the MAC is forged. */
const FORGED: Record<string, fc.Arbitrary<Record<string, HeaderValue>>> = {
  "webhook-hmac-sha256": fc.record({
    "x-webhook-signature": hex(32),
    "x-webhook-timestamp": inWindow,
    "x-webhook-id": printable,
  }),
  "hmac-sha256-body": fc.record({ "x-webhook-signature": hex(32) }),
  "standard-webhooks": fc.record({
    "webhook-signature": v1List,
    "webhook-timestamp": inWindow,
    "webhook-id": printable,
  }),
  svix: fc.record({ "svix-signature": v1List, "svix-timestamp": inWindow, "svix-id": printable }),
  stripe: fc
    .tuple(inWindow, fc.array(hex(32), { minLength: 1, maxLength: 15 }))
    .map(([t, sigs]) => ({ "stripe-signature": [`t=${t}`, ...sigs.map((x) => `v1=${x}`)].join(",") })),
  github: fc.record({ "x-hub-signature-256": hex(32).map((x) => `sha256=${x}`), "x-github-delivery": printable }),
  shopify: fc.record({ "x-shopify-hmac-sha256": b64(32), "x-shopify-webhook-id": printable }),
  hmac: fc.record({ "x-signature": hex(32), "x-timestamp": inWindow, "x-id": printable }),
};

describe("property - random requests", () => {
  for (const config of CONFIGS) {
    const scheme = createScheme(config);
    it(`property - ${scheme.name}: random headers and bodies never throw and never verify`, () => {
      fc.assert(
        fc.property(headers, body, (h, rawBody) => {
          const result = scheme.verify({ headers: h, rawBody }, ctx({ secrets: SECRETS }));
          expect(result.ok).toBe(false);
          if (!result.ok) expect(Object.keys(VERIFY_FAILURE_CODES)).toContain(result.code);
        }),
        { numRuns: 400 },
      );
    });
  }

  for (const config of CONFIGS) {
    const scheme = createScheme(config);
    const forged = FORGED[scheme.name];
    if (forged === undefined) throw new Error(`no forged-request generator for ${scheme.name}`);
    it(`property - ${scheme.name}: well-formed requests with random signatures reach the MAC and are refused`, () => {
      let comparedMacs = 0;
      fc.assert(
        fc.property(forged, body, (h, rawBody) => {
          const result = scheme.verify({ headers: h, rawBody }, ctx({ secrets: SECRETS }));
          expect(result.ok).toBe(false);
          // Only a failed comparison reports the catalogue's own message; earlier checks name a header.
          if (!result.ok && result.message === VERIFY_FAILURE_CODES.signature_mismatch.message) comparedMacs += 1;
        }),
        { numRuns: 200 },
      );
      expect(comparedMacs).toBeGreaterThan(150); // most runs got past every format and window check
    });
  }

  for (const config of CONFIGS) {
    const scheme = createScheme(config);
    const forged = FORGED[scheme.name]!;
    it(`M4 - ${scheme.name}: checkHeaders, run before the body is read, refuses exactly what verify refuses before any MAC`, () => {
      const c = ctx({ secrets: SECRETS });
      fc.assert(
        fc.property(fc.oneof(headers, forged), body, (h, rawBody) => {
          const early = scheme.checkHeaders(h, c);
          const result = scheme.verify({ headers: h, rawBody }, c);
          if (early !== null) expect(result).toEqual(early);
          // Past the header checks, only the MAC comparison can refuse (with the catalogue's message).
          else if (!result.ok) expect(result).toEqual({ ok: false, ...failureOf("signature_mismatch") });
        }),
        { numRuns: 300 },
      );
    });
  }

  it("property - hostile context values (NaN clock, odd secrets) never throw", () => {
    const scheme = createScheme({ type: "standard-webhooks" });
    const oddSecrets = fc.array(
      fc.record({
        id: fc.string(),
        key: fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
        kind: fc.constantFrom<SourceSecret["kind"]>("hmac", "ed25519-public", undefined),
      }),
      { maxLength: 4 },
    );
    fc.assert(
      fc.property(headers, body, oddSecrets, fc.double(), (h, rawBody, secrets, now) => {
        const result = scheme.verify({ headers: h, rawBody }, { secrets, toleranceSeconds: 300, nowSeconds: now });
        expect(result.ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});
