import { sign } from "@octokit/webhooks-methods";
import { describe, expect, it } from "vitest";
import { createScheme, decodeSecret } from "../src/index.js";
import type { HeaderValue, SourceSecret, VerifyResult } from "../src/index.js";
import { ctx, failureCode, flipByte, flipChar } from "./fixtures.js";

const scheme = createScheme({ type: "github" });
const SECRET_TEXT = "It's a Secret to Everybody"; // GitHub docs' example secret
const CURRENT: SourceSecret = { id: "gh-1", ...decodeSecret(SECRET_TEXT, "github") };
const PREVIOUS: SourceSecret = { id: "gh-0", ...decodeSecret("an older secret, still active", "github") };
const DELIVERY = "72d3162e-cc78-11e3-81ab-4c9367dc0958";
const BODY = Buffer.from(
  '{"action":"opened","issue":{"number":1347},"repository":{"full_name":"octocat/Hello-World"}}',
);

/** Signed by @octokit/webhooks-methods, not by the code under test. */
async function githubSignature(secret = SECRET_TEXT, body: Buffer = BODY): Promise<string> {
  return sign(secret, body.toString("utf8"));
}

function verify(
  sig: HeaderValue,
  body: Buffer = BODY,
  secrets: SourceSecret[] = [CURRENT],
  nowSeconds?: number,
): VerifyResult {
  const headers = { "x-hub-signature-256": sig, "x-github-delivery": DELIVERY, "x-github-event": "issues" };
  return scheme.verify(
    { headers, rawBody: body },
    ctx(nowSeconds === undefined ? { secrets } : { secrets, nowSeconds }),
  );
}

describe("github", () => {
  it("valid - a signature from @octokit/webhooks-methods verifies", async () => {
    expect(verify(await githubSignature())).toEqual({
      ok: true,
      secretId: "gh-1",
      timestamp: null,
      deliveryId: null,
    });
    expect(scheme.signsTimestamp).toBe(false);
  });

  it("valid - no timestamp: the receiver clock does not matter", async () => {
    expect(verify(await githubSignature(), BODY, [CURRENT], 0).ok).toBe(true);
  });

  it("rotation - the second active secret verifies and is named", async () => {
    const sig = await githubSignature("an older secret, still active");
    expect(verify(sig, BODY, [CURRENT, PREVIOUS])).toMatchObject({ ok: true, secretId: "gh-0" });
  });

  it("tampering - every flipped byte of the body and every flipped character of the header is a mismatch", async () => {
    const sig = await githubSignature();
    for (let index = 0; index < BODY.length; index += 1) {
      expect(failureCode(verify(sig, flipByte(BODY, index))), `body ${index}`).toBe("signature_mismatch");
    }
    for (let index = 0; index < sig.length; index += 1) {
      expect(failureCode(verify(flipChar(sig, index))), `header ${index}`).toBe("signature_mismatch");
    }
  });

  it("H3 - X-GitHub-Delivery is not signed, so it is never read: a replay under another id verifies as the same delivery, keyed by the body", async () => {
    const sig = await githubSignature();
    const headers = { "x-hub-signature-256": sig, "x-github-delivery": "another-id" };
    expect(scheme.verify({ headers, rawBody: BODY }, ctx({ secrets: [CURRENT] }))).toMatchObject({
      ok: true,
      deliveryId: null,
    });
    expect(scheme.deliveryIdSource).toEqual({ from: "none" });
    // Naming it as the id header is refused: it cannot key events.
    expect(() => createScheme({ type: "github", idHeader: "x-github-delivery" } as never)).toThrow(
      expect.objectContaining({ field: "idHeader" }),
    );
    expect(createScheme({ type: "github", idHeader: null }).deliveryIdSource).toEqual({ from: "none" });
  });

  const malformed: Array<[string, (sig: string) => HeaderValue, string]> = [
    ["absent", () => undefined, "signature_missing"],
    ["bare hex without sha256=", (sig) => sig.slice("sha256=".length), "signature_mismatch"],
    ["SHA1= prefix", (sig) => sig.replace("sha256=", "sha1="), "signature_mismatch"],
    ["upper-case prefix", (sig) => sig.replace("sha256=", "SHA256="), "signature_mismatch"],
    ["truncated", (sig) => sig.slice(0, -2), "signature_mismatch"],
    ["repeated header", (sig) => [sig, sig], "signature_mismatch"],
    ["oversized", (sig) => sig + "a".repeat(2000), "signature_mismatch"],
  ];
  for (const [name, mangle, code] of malformed) {
    it(`malformed - ${name} → ${code}`, async () => {
      expect(failureCode(verify(mangle(await githubSignature())))).toBe(code);
    });
  }

  it("valid - upper-case hex digits are accepted", async () => {
    const sig = await githubSignature();
    expect(verify("sha256=" + sig.slice(7).toUpperCase()).ok).toBe(true);
  });
});
