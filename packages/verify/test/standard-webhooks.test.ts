import { createHmac, createPrivateKey, createPublicKey } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { MAX_ED25519_SIGNATURES, MAX_SIGNATURES, createScheme, decodeSecret } from "../src/index.js";
import type { HeaderValue, SourceSecret, VerifyResult } from "../src/index.js";
import {
  BODY,
  NOW,
  ctx,
  ed25519KeyPair,
  failureCode,
  flipBase64Byte,
  flipByte,
  flipChar,
  standardContent,
} from "./fixtures.js";
import {
  MULTI_SIG_DECOYS,
  V1A_VECTOR,
  V1_VECTOR,
  V1_WRONG_SIGNATURES,
  VECTOR_MSG_ID,
  VECTOR_PAYLOAD,
  VECTOR_TIMESTAMP,
} from "./standard-webhooks-vectors.js";

const scheme = createScheme({ type: "standard-webhooks" });

const SECRET_TEXT = "whsec_" + Buffer.from("standard-webhooks-current-secret-0001").toString("base64");
const OLD_SECRET_TEXT = "whsec_" + Buffer.from("standard-webhooks-previous-secret-001").toString("base64");
const CURRENT: SourceSecret = { id: "current", ...decodeSecret(SECRET_TEXT, "standard-webhooks") };
const PREVIOUS: SourceSecret = { id: "previous", ...decodeSecret(OLD_SECRET_TEXT, "standard-webhooks") };
const MSG_ID = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W";

/** Signed by the reference library (`standardwebhooks` on npm), not by the code under test. */
function officialSignature(secretText: string, id = MSG_ID, timestamp = NOW, body: Buffer = BODY): string {
  return new Webhook(secretText).sign(id, new Date(timestamp * 1000), body);
}

function headers(signature: HeaderValue, id: HeaderValue = MSG_ID, timestamp: HeaderValue = String(NOW)) {
  return { "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": signature };
}

function verify(
  h: Record<string, HeaderValue>,
  body: Buffer = BODY,
  secrets: SourceSecret[] = [CURRENT],
): VerifyResult {
  return scheme.verify({ headers: h, rawBody: body }, ctx({ secrets }));
}

/** The public key of the Go reference test's seed, derived with node:crypto. */
function vectorPublicKey(): Buffer {
  const seed = Buffer.from(V1A_VECTOR.privateSeed, "base64");
  const pkcs8 = Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]);
  const jwk = createPublicKey(createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" })).export({ format: "jwk" });
  return Buffer.from(String(jwk.x), "base64url");
}

describe("standard-webhooks v1 (official library)", () => {
  it("valid - a request signed by the standardwebhooks library verifies with the authenticated id", () => {
    const result = verify(headers(officialSignature(SECRET_TEXT)));
    expect(result).toEqual({ ok: true, secretId: "current", timestamp: NOW, deliveryId: MSG_ID });
    expect(scheme.name).toBe("standard-webhooks");
    expect(scheme.deliveryIdSource).toEqual({ from: "header", header: "webhook-id" });
  });

  it("valid - the raw body bytes are signed, also when they are not UTF-8", () => {
    const body = Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0x7d]);
    const mac = createHmac("sha256", CURRENT.key)
      .update(standardContent(MSG_ID, String(NOW), body))
      .digest("base64");
    expect(verify(headers(`v1,${mac}`), body).ok).toBe(true);
  });

  it("valid - a UTF-8 id arrives as Node delivers it (latin1) and still verifies", () => {
    const id = "msg_é✓";
    const signature = officialSignature(SECRET_TEXT, id);
    const asNodeDelivers = Buffer.from(id, "utf8").toString("latin1");
    expect(verify(headers(signature, asNodeDelivers))).toMatchObject({ ok: true, deliveryId: asNodeDelivers });
  });

  it("rotation - a list signed with both secrets verifies under either one alone", () => {
    const both = `${officialSignature(OLD_SECRET_TEXT)} ${officialSignature(SECRET_TEXT)}`;
    expect(verify(headers(both), BODY, [PREVIOUS])).toMatchObject({ ok: true, secretId: "previous" });
    expect(verify(headers(both), BODY, [CURRENT])).toMatchObject({ ok: true, secretId: "current" });
    expect(verify(headers(both), BODY, [CURRENT, PREVIOUS])).toMatchObject({ ok: true, secretId: "current" });
  });

  it("rotation - the receiver may rotate first: the old signature verifies against the second secret", () => {
    const result = verify(headers(officialSignature(OLD_SECRET_TEXT)), BODY, [CURRENT, PREVIOUS]);
    expect(result).toMatchObject({ ok: true, secretId: "previous" });
  });

  it("rotation - a retired secret no longer verifies", () => {
    expect(failureCode(verify(headers(officialSignature(OLD_SECRET_TEXT))))).toBe("signature_mismatch");
  });
});

describe("standard-webhooks published test vectors", () => {
  const vectorSecret: SourceSecret = { id: "vector", ...decodeSecret(V1_VECTOR.secret, "standard-webhooks") };
  const vectorHeaders = (signature: string) => headers(signature, VECTOR_MSG_ID, String(VECTOR_TIMESTAMP));
  const at = { secrets: [vectorSecret], nowSeconds: VECTOR_TIMESTAMP };
  const body = Buffer.from(VECTOR_PAYLOAD);

  it("vectors - the reference v1 signature verifies", () => {
    const result = scheme.verify({ headers: vectorHeaders(V1_VECTOR.signature), rawBody: body }, ctx(at));
    expect(result).toEqual({ ok: true, secretId: "vector", timestamp: VECTOR_TIMESTAMP, deliveryId: VECTOR_MSG_ID });
  });

  it("vectors - the reference library agrees with the vector (sanity of the fixture)", () => {
    expect(officialSignature(V1_VECTOR.secret, VECTOR_MSG_ID, VECTOR_TIMESTAMP, body)).toBe(V1_VECTOR.signature);
  });

  it("vectors - the reference invalid signatures are refused as signature_mismatch", () => {
    for (const signature of V1_WRONG_SIGNATURES) {
      const result = scheme.verify({ headers: vectorHeaders(signature), rawBody: body }, ctx(at));
      expect(failureCode(result), signature).toBe("signature_mismatch");
    }
  });

  it("vectors - the reference multi-signature header verifies", () => {
    const list = [MULTI_SIG_DECOYS[0], MULTI_SIG_DECOYS[1], V1_VECTOR.signature, MULTI_SIG_DECOYS[0]].join(" ");
    expect(scheme.verify({ headers: vectorHeaders(list), rawBody: body }, ctx(at)).ok).toBe(true);
  });

  it("vectors - the reference v1a signature verifies under the public key of its seed", () => {
    const publicKey: SourceSecret = { id: "go-vector", key: vectorPublicKey(), kind: "ed25519-public" };
    const result = scheme.verify(
      { headers: vectorHeaders(V1A_VECTOR.signature), rawBody: body },
      ctx({ ...at, secrets: [vectorSecret, publicKey] }),
    );
    expect(result).toMatchObject({ ok: true, secretId: "go-vector" });
    const whpk = `whpk_${publicKey.key.toString("base64")}`;
    expect(decodeSecret(whpk, "standard-webhooks")).toEqual({ key: publicKey.key, kind: "ed25519-public" });
  });

  it("vectors - the v1a vector with one flipped signature byte is refused", () => {
    const publicKey: SourceSecret = { id: "go-vector", key: vectorPublicKey(), kind: "ed25519-public" };
    const raw = V1A_VECTOR.signature.slice(4);
    for (const index of [0, 31, 63]) {
      const h = vectorHeaders(`v1a,${flipBase64Byte(raw, index)}`);
      const result = scheme.verify({ headers: h, rawBody: body }, ctx({ ...at, secrets: [publicKey] }));
      expect(failureCode(result)).toBe("signature_mismatch");
    }
  });
});

describe("standard-webhooks v1a (ed25519)", () => {
  const pair = ed25519KeyPair();
  const PUBLIC: SourceSecret = { id: "pk-2026", key: pair.publicKey, kind: "ed25519-public" };
  const v1a = (id = MSG_ID, ts = String(NOW), body: Buffer = BODY) => `v1a,${pair.sign(standardContent(id, ts, body))}`;

  it("v1a - a signature made with the private key verifies under the listed public key", () => {
    expect(verify(headers(v1a()), BODY, [CURRENT, PUBLIC])).toEqual({
      ok: true,
      secretId: "pk-2026",
      timestamp: NOW,
      deliveryId: MSG_ID,
    });
  });

  it("v1a - a source lists an HMAC secret and a public key; v1, v1a or both verify", () => {
    const v1 = officialSignature(SECRET_TEXT);
    expect(verify(headers(v1), BODY, [CURRENT, PUBLIC])).toMatchObject({ ok: true, secretId: "current" });
    expect(verify(headers(`${v1} ${v1a()}`), BODY, [CURRENT, PUBLIC])).toMatchObject({ ok: true, secretId: "current" });
    expect(verify(headers(`${v1} ${v1a()}`), BODY, [PUBLIC])).toMatchObject({ ok: true, secretId: "pk-2026" });
  });

  it("v1a - another key pair does not verify", () => {
    const other: SourceSecret = { id: "other", key: ed25519KeyPair().publicKey, kind: "ed25519-public" };
    expect(failureCode(verify(headers(v1a()), BODY, [other]))).toBe("signature_mismatch");
  });

  it("v1a - without an ed25519 entry a v1a signature is a mismatch", () => {
    expect(failureCode(verify(headers(v1a()), BODY, [CURRENT]))).toBe("signature_mismatch");
  });

  it("kinds - a v1 HMAC made with the public key bytes as the key is refused", () => {
    // The public key is public: if it were ever used as an HMAC key, anyone could forge v1.
    const forged = createHmac("sha256", pair.publicKey)
      .update(standardContent(MSG_ID, String(NOW), BODY))
      .digest("base64");
    expect(failureCode(verify(headers(`v1,${forged}`), BODY, [PUBLIC]))).toBe("signature_mismatch");
  });

  it("kinds - an hmac entry holding the public key bytes does not verify v1a", () => {
    const mislabelled: SourceSecret = { id: "mislabelled", key: pair.publicKey };
    expect(failureCode(verify(headers(v1a()), BODY, [mislabelled]))).toBe("signature_mismatch");
  });

  it("kinds - an ed25519 entry whose bytes are not a public key matches nothing and never throws", () => {
    const broken: SourceSecret = { id: "broken", key: Buffer.alloc(5), kind: "ed25519-public" };
    expect(failureCode(verify(headers(v1a()), BODY, [broken, PUBLIC]))).toBeUndefined();
    expect(failureCode(verify(headers(v1a()), BODY, [broken]))).toBe("signature_mismatch");
  });

  it(`caps - up to ${MAX_ED25519_SIGNATURES} v1a entries are checked; more are refused before any verification`, () => {
    const forged = (n: number) => Array.from({ length: n }, (_, i) => `v1a,${Buffer.alloc(64, i).toString("base64")}`);
    expect(verify(headers([...forged(MAX_ED25519_SIGNATURES - 1), v1a()].join(" ")), BODY, [PUBLIC]).ok).toBe(true);
    const over = verify(headers([...forged(MAX_ED25519_SIGNATURES), v1a()].join(" ")), BODY, [PUBLIC]);
    expect(over).toMatchObject({ ok: false, code: "signature_mismatch" });
    expect(over.ok ? "" : over.message).toMatch(/more than 4 v1a signatures/);
  });

  it("tampering - one flipped byte in body, id, timestamp or signature is refused", () => {
    const secrets = [PUBLIC];
    for (const index of [0, 40, BODY.length - 1]) {
      expect(failureCode(verify(headers(v1a()), flipByte(BODY, index), secrets))).toBe("signature_mismatch");
    }
    expect(failureCode(verify(headers(v1a(), flipChar(MSG_ID, 5)), BODY, secrets))).toBe("signature_mismatch");
    expect(failureCode(verify(headers(v1a(), MSG_ID, String(NOW + 1)), BODY, secrets))).toBe("signature_mismatch");
    const raw = v1a().slice(4);
    for (const index of [0, 32, 63]) {
      expect(failureCode(verify(headers(`v1a,${flipBase64Byte(raw, index)}`), BODY, secrets))).toBe(
        "signature_mismatch",
      );
    }
  });
});

describe("standard-webhooks tampering (v1)", () => {
  const signature = officialSignature(SECRET_TEXT);

  it("tampering - every flipped byte of the body is a mismatch", () => {
    for (let index = 0; index < BODY.length; index += 1) {
      expect(failureCode(verify(headers(signature), flipByte(BODY, index))), `byte ${index}`).toBe(
        "signature_mismatch",
      );
    }
  });

  it("tampering - every flipped character of the id is a mismatch", () => {
    for (let index = 0; index < MSG_ID.length; index += 1) {
      expect(failureCode(verify(headers(signature, flipChar(MSG_ID, index)))), `char ${index}`).toBe(
        "signature_mismatch",
      );
    }
  });

  it("tampering - a flipped timestamp digit is a mismatch inside the window, out of tolerance beyond it", () => {
    const ts = String(NOW);
    expect(failureCode(verify(headers(signature, MSG_ID, flipChar(ts, ts.length - 1))))).toBe("signature_mismatch");
    expect(failureCode(verify(headers(signature, MSG_ID, flipChar(ts, 0))))).toBe("timestamp_out_of_tolerance");
  });

  it("tampering - every flipped character of the signature header is a mismatch", () => {
    for (let index = 0; index < signature.length; index += 1) {
      expect(failureCode(verify(headers(flipChar(signature, index)))), `char ${index}`).toBe("signature_mismatch");
    }
  });

  it("tampering - every flipped byte of the decoded MAC is a mismatch", () => {
    const raw = signature.slice(3);
    for (let index = 0; index < 32; index += 1) {
      expect(failureCode(verify(headers(`v1,${flipBase64Byte(raw, index)}`))), `byte ${index}`).toBe(
        "signature_mismatch",
      );
    }
  });
});

describe("standard-webhooks hostile and malformed input", () => {
  const valid = officialSignature(SECRET_TEXT);
  const decoy = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=";

  it(`caps - ${MAX_SIGNATURES} entries are read; the valid one last still verifies`, () => {
    const list = [...Array<string>(MAX_SIGNATURES - 1).fill(decoy), valid].join(" ");
    expect(list.length).toBeLessThanOrEqual(1024);
    expect(verify(headers(list)).ok).toBe(true);
  });

  it(`caps - more than ${MAX_SIGNATURES} entries are refused before any crypto, valid or not`, () => {
    const list = [...Array<string>(MAX_SIGNATURES).fill("v2,x"), valid].join(" ");
    const result = verify(headers(list));
    expect(result).toMatchObject({ ok: false, code: "signature_mismatch" });
    expect(result.ok ? "" : result.message).toMatch(/more than 16 signatures/);
  });

  it("caps - hundreds of entries (within 1 KiB) and an oversized header are mismatches", () => {
    expect(failureCode(verify(headers(Array<string>(400).fill("a").join(" "))))).toBe("signature_mismatch");
    expect(failureCode(verify(headers(Array<string>(300).fill(decoy).join(" "))))).toBe("signature_mismatch");
  });

  const signatures: Array<[string, HeaderValue, string]> = [
    ["only unknown versions", "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=", "signature_mismatch"],
    ["no comma", "v1Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=", "signature_mismatch"],
    ["hex instead of base64", `v1,${"ab".repeat(32)}`, "signature_mismatch"],
    ["unpadded base64", valid.slice(0, -1), "signature_mismatch"],
    ["base64url alphabet", valid.replace(/\+/g, "-").replace(/\//g, "_"), "signature_mismatch"],
    ["upper-case version", valid.replace("v1,", "V1,"), "signature_mismatch"],
    ["repeated header (array)", [valid, valid], "signature_mismatch"],
    ["only spaces", "   ", "signature_missing"],
    ["empty", "", "signature_missing"],
  ];
  for (const [name, value, code] of signatures) {
    it(`malformed signature - ${name} → ${code}`, () => {
      expect(failureCode(verify(headers(value)))).toBe(code);
    });
  }

  it("malformed signature - extra spaces between entries are tolerated", () => {
    expect(verify(headers(`  ${decoy}   ${valid} `)).ok).toBe(true);
  });

  const timestamps: Array<[string, HeaderValue, string]> = [
    ["non-numeric", "soon", "timestamp_invalid"],
    ["milliseconds", `${NOW}000`, "timestamp_invalid"],
    ["negative", `-${NOW}`, "timestamp_invalid"],
    ["fraction", `${NOW}.0`, "timestamp_invalid"],
    ["repeated header", [String(NOW), String(NOW)], "timestamp_invalid"],
    ["oversized", "9".repeat(2000), "timestamp_invalid"],
    ["an hour old", String(NOW - 3600), "timestamp_out_of_tolerance"],
    ["empty", "", "timestamp_missing"],
  ];
  for (const [name, value, code] of timestamps) {
    it(`malformed timestamp - ${name} → ${code}`, () => {
      expect(failureCode(verify(headers(valid, MSG_ID, value)))).toBe(code);
    });
  }

  it("missing - no signature header → signature_missing, before anything else", () => {
    expect(failureCode(verify({}))).toBe("signature_missing");
    expect(failureCode(verify({ "webhook-id": MSG_ID, "webhook-timestamp": String(NOW) }))).toBe("signature_missing");
  });

  it("missing - no timestamp header → timestamp_missing", () => {
    expect(failureCode(verify({ "webhook-id": MSG_ID, "webhook-signature": valid }))).toBe("timestamp_missing");
  });

  it("missing - no webhook-id → signature_mismatch naming the header (it is signed content)", () => {
    const result = verify({ "webhook-timestamp": String(NOW), "webhook-signature": valid });
    expect(result).toMatchObject({ ok: false, code: "signature_mismatch" });
    expect(result.ok ? "" : result.message).toContain("webhook-id");
  });

  it("malformed id - repeated, oversized or beyond latin1 is a mismatch", () => {
    expect(failureCode(verify(headers(valid, [MSG_ID, MSG_ID])))).toBe("signature_mismatch");
    expect(failureCode(verify(headers(valid, "m".repeat(1025))))).toBe("signature_mismatch");
    expect(failureCode(verify(headers(valid, "msg_\u0101")))).toBe("signature_mismatch");
  });

  it("malformed input - messages never echo header values", () => {
    const hostile = "<script>x</script>";
    const result = verify(headers(`v1,${hostile}`, hostile, hostile));
    expect(JSON.stringify(result)).not.toContain("script");
  });

  it("config - header names can be changed; all three are required", () => {
    const custom = createScheme({ type: "standard-webhooks", idHeader: "X-Msg-Id" });
    const h = { "x-msg-id": MSG_ID, "webhook-timestamp": String(NOW), "webhook-signature": valid };
    expect(custom.verify({ headers: h, rawBody: BODY }, ctx({ secrets: [CURRENT] })).ok).toBe(true);
    expect(() => createScheme({ type: "standard-webhooks", idHeader: null } as never)).toThrow(/idHeader/);
  });
});
