import { execFile } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Source } from "../src/api/client";
import { diffFields } from "../src/audit";
import { exampleRequest } from "../src/example-request";

describe("audit diffs - the fields a change touched", () => {
  it("nested fields by dotted path; arrays whole; added and removed fields", () => {
    const before = { url: "a", retry: { maxAttempts: 8, initialDelayMs: 1000 }, sources: ["shop"], filter: "x" };
    const after = { url: "a", retry: { maxAttempts: 3, initialDelayMs: 1000 }, sources: ["shop", "crm"], paused: true };
    expect(diffFields(before, after)).toEqual([
      { path: "filter", before: "x", after: undefined },
      { path: "paused", before: undefined, after: true },
      { path: "retry.maxAttempts", before: 8, after: 3 },
      { path: "sources", before: ["shop"], after: ["shop", "crm"] },
    ]);
  });

  it("a create has every field as added; no change is no diff", () => {
    expect(diffFields(undefined, { id: "x", headers: {} })).toEqual([
      { path: "headers", before: undefined, after: {} },
      { path: "id", before: undefined, after: "x" },
    ]);
    expect(diffFields({ a: 1 }, { a: 1 })).toEqual([]);
  });
});

/**
 * The example requests of the schemes the browser test does not send to a gateway, run as shown
 * against a local endpoint, each signature recomputed here from the scheme's definition.
 */
describe("example requests - the script signs as the scheme verifies", () => {
  let url: string;
  let last: { headers: IncomingHttpHeaders; body: string } | undefined;
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      last = { headers: req.headers, body };
      res.writeHead(202).end('{"status":"accepted"}');
    });
  });
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => server.close());

  const run = async (scheme: Source["scheme"], secret: string, eventTypeHeader?: string | null) => {
    const script = exampleRequest({ id: "demo", scheme, eventTypeHeader } as Source);
    last = undefined;
    const { stdout } = await promisify(execFile)("bash", ["-c", script], {
      env: { ...process.env, SECRET: secret, GATEWAY_URL: url },
    });
    expect(stdout).toContain("accepted");
    expect(JSON.parse(last!.body)).toBeTruthy();
    return last!;
  };
  const mac = (key: string | Buffer, content: string, algorithm = "sha256") =>
    createHmac(algorithm, key).update(content);

  it("svix: svix-* headers, v1 over id.timestamp.body with the whsec_ key decoded", async () => {
    const key = randomBytes(32);
    const { headers: h, body } = await run({ type: "svix" }, `whsec_${key.toString("base64")}`);
    const content = `${h["svix-id"]}.${h["svix-timestamp"]}.${body}`;
    expect(h["svix-signature"]).toBe(`v1,${mac(key, content).digest("base64")}`);
  });

  it("shopify: base64 over the body, the topic header", async () => {
    const { headers: h, body } = await run({ type: "shopify" }, "shpss_example");
    expect(h["x-shopify-hmac-sha256"]).toBe(mac("shpss_example", body).digest("base64"));
    expect(h["x-shopify-topic"]).toBe("orders/create");
  });

  it("hmac-sha256-body: hex over the body, a renamed signature header", async () => {
    const { headers: h, body } = await run({ type: "hmac-sha256-body", signatureHeader: "x-sig" }, "s3cret");
    expect(h["x-sig"]).toBe(mac("s3cret", body).digest("hex"));
  });

  it("github without an event type header sends none", async () => {
    const { headers: h, body } = await run({ type: "github" }, "gh", null);
    expect(h["x-hub-signature-256"]).toBe(`sha256=${mac("gh", body).digest("hex")}`);
    expect(h["x-github-event"]).toBeUndefined();
  });

  it("generic hmac: its template, sha512, base64 and prefix", async () => {
    const scheme = {
      type: "hmac",
      signatureHeader: "x-signature",
      algorithm: "sha512",
      encoding: "base64",
      prefix: "v1=",
      timestampHeader: "x-timestamp",
      idHeader: "x-event-id",
      signedContent: "{id}.{timestamp}.{body}",
    } as Source["scheme"];
    const { headers: h, body } = await run(scheme, "generic");
    const content = `${h["x-event-id"]}.${h["x-timestamp"]}.${body}`;
    expect(h["x-signature"]).toBe(`v1=${mac("generic", content, "sha512").digest("base64")}`);
  });
});
