import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sampleEvent, signWebhook } from "@tributary/testkit";
import { SECRET, startGateway, type GatewayUnderTest } from "./helpers.js";

const source = (extra: Record<string, unknown> = {}) => ({
  scheme: { type: "webhook-hmac-sha256" },
  secrets: [{ id: "current", env: "GW_TEST_SECRET" }],
  ...extra,
});

/**
 * A raw HTTP/1.1 request whose body is sent only as far as the test says: resolves with the
 * status of the first answer, or null if none came within `waitMs` (the server is still reading).
 */
function partialRequest(
  url: string,
  path: string,
  headers: Record<string, string>,
  body: Buffer | undefined,
  waitMs = 3000,
): Promise<number | null> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket: Socket = connect(Number(port), hostname);
    let answer = "";
    const done = (status: number | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(status);
    };
    const timer = setTimeout(() => done(null), waitMs);
    socket.on("data", (chunk: Buffer) => {
      answer += chunk.toString("latin1");
      const status = /^HTTP\/1\.1 (\d{3})/.exec(answer);
      if (status) done(Number(status[1]));
    });
    socket.on("error", () => done(null));
    const head = Object.entries({ host: `${hostname}:${port}`, ...headers })
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join("");
    socket.write(`POST ${path} HTTP/1.1\r\n${head}\r\n`);
    if (body) socket.write(body);
  });
}

async function post(gw: GatewayUnderTest, path: string, body: string, headers: Record<string, string>) {
  const res = await fetch(`${gw.url}${path}`, { method: "POST", headers, body });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

describe("an unauthenticated sender and a source's rate limit", () => {
  it("M2 - unsigned and forged requests do not spend a source's rate limit: the real sender still gets 202, then its own 429", async () => {
    const gw = await startGateway({ sources: { limited: source({ rateLimit: { max: 3, windowSeconds: 60 } }) } });
    try {
      const body = sampleEvent();
      for (let i = 0; i < 10; i++) {
        const unsigned = await post(gw, "/v1/sources/limited/events", body, { "content-type": "application/json" });
        expect(unsigned.json.error.code).toBe("signature_missing");
        const forged = await post(
          gw,
          "/v1/sources/limited/events",
          body,
          signWebhook({ secret: "not-the-secret-0123456789", body }),
        );
        expect(forged.json.error.code).toBe("signature_mismatch");
      }
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const event = sampleEvent();
        statuses.push(
          (await post(gw, "/v1/sources/limited/events", event, signWebhook({ secret: SECRET, body: event }))).status,
        );
      }
      expect(statuses).toEqual([202, 202, 202, 429]);
    } finally {
      await gw.close();
    }
  });
});

describe("what an unauthenticated sender can make the gateway read and hash", () => {
  let gw: GatewayUnderTest;
  beforeAll(async () => {
    gw = await startGateway({
      sources: {
        small: source({ maxBodyBytes: 4096, batch: { maxItems: 10, maxBodyBytes: 8192 } }),
        big: source({ maxBodyBytes: 512 * 1024, batch: true }),
        solo: source(),
      },
    });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it("M4 - /batch answers only on sources that enable it: 404 batch_not_enabled before the body is read, nothing stored", async () => {
    const before = await gw.streamMessages();
    const batch = [sampleEvent(), sampleEvent()].join("\n");
    const res = await post(gw, "/v1/sources/solo/batch", batch, {
      ...signWebhook({ secret: SECRET, body: batch }),
      "content-type": "application/x-ndjson",
    });
    expect([res.status, res.json.error?.code]).toEqual([404, "batch_not_enabled"]);
    // Declared as 1 MB and never sent: the answer does not wait for it.
    const declared = await partialRequest(
      gw.url,
      "/v1/sources/solo/batch",
      {
        ...signWebhook({ secret: SECRET, body: batch }),
        "content-type": "application/x-ndjson",
        "content-length": "1000000",
      },
      undefined,
    );
    expect(declared).toBe(404);
    expect(await gw.streamMessages()).toBe(before);
    // A source that enables it takes a batch.
    const ok = await post(gw, "/v1/sources/big/batch", batch, {
      ...signWebhook({ secret: SECRET, body: batch }),
      "content-type": "application/x-ndjson",
    });
    expect(ok.status).toBe(202);
  });

  it("M4 - a chunked body over its source's own maxBodyBytes is refused (413) as it passes that limit, not the largest limit of any source", async () => {
    const headers = { ...signWebhook({ secret: SECRET, body: "x" }), "transfer-encoding": "chunked" };
    // 8 KiB in one chunk, and the request left open: `small` takes 4 KiB, `big` 512 KiB.
    const chunk = Buffer.concat([Buffer.from("2000\r\n"), Buffer.alloc(0x2000, 0x20), Buffer.from("\r\n")]);
    expect(await partialRequest(gw.url, "/v1/sources/small/events", headers, chunk)).toBe(413);
    expect(await partialRequest(gw.url, "/v1/sources/big/events", headers, chunk, 1000)).toBeNull(); // still reading
    // The same for a batch against the source's own batch limit (8 KiB here).
    const batchChunk = Buffer.concat([Buffer.from("4000\r\n"), Buffer.alloc(0x4000, 0x20), Buffer.from("\r\n")]);
    const batchHeaders = { ...headers, "content-type": "application/x-ndjson" };
    expect(await partialRequest(gw.url, "/v1/sources/small/batch", batchHeaders, batchChunk)).toBe(413);
  });

  it("M4 - a request without a well-formed signature or with a stale timestamp is 401 before its body is read (no buffering, no HMAC)", async () => {
    const body = sampleEvent();
    const fresh = signWebhook({ secret: SECRET, body });
    const cases: Array<[Record<string, string>, string]> = [
      [{ "content-type": "application/json" }, "no signature"],
      [{ ...fresh, "x-webhook-signature": "not-hex" }, "malformed signature"],
      [signWebhook({ secret: SECRET, body, timestamp: Math.floor(Date.now() / 1000) - 3600 }), "stale timestamp"],
    ];
    for (const [headers, what] of cases) {
      const declared = { ...headers, "content-length": "4000" }; // within maxBodyBytes, never sent
      expect(await partialRequest(gw.url, "/v1/sources/small/events", declared, undefined), what).toBe(401);
      expect(
        await partialRequest(
          gw.url,
          "/v1/sources/small/batch",
          { ...declared, "content-type": "application/x-ndjson" },
          undefined,
        ),
        what,
      ).toBe(401);
    }
    // A well-formed, fresh signature is read in full (the MAC needs the body).
    expect(
      await partialRequest(gw.url, "/v1/sources/small/events", { ...fresh, "content-length": "4000" }, undefined, 1000),
    ).toBeNull();
  });
});
