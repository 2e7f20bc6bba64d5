// `helm test`: by default waits until the gateway is ready (/readyz: its NATS server reachable and
// the regional stream there) and sends nothing. With helmTest.sendEvent (SOURCE set) it sends one
// signed event and waits for its receipt — a 202 is given only after the regional stream's PubAck,
// so a 202 means the event is stored, and from there it reaches the warehouse and the
// destinations like any other: point it at a source kept for tests. Signs as the demo source's
// provider does (webhook-hmac-sha256: X-Webhook-Signature = hex HMAC-SHA256 of `${timestamp}.${body}`).
import { createHmac, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";

const env = process.env;
const deadline = Date.now() + Number(env.TEST_TIMEOUT_MS ?? 60_000);

async function statusOf(path, init) {
  try {
    const res = await fetch(`${env.GATEWAY_URL}${path}`, init);
    return { status: res.status, answer: await res.text() };
  } catch (err) {
    return { status: 0, answer: err.message };
  }
}

async function waitReady() {
  for (;;) {
    const { status, answer } = await statusOf("/readyz");
    if (status === 200) {
      console.log(`ready: ${status} ${answer}`);
      process.exit(0);
    }
    if (Date.now() > deadline) {
      console.error(`not ready: ${status} ${answer}`);
      process.exit(1);
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
}

async function sendEvent() {
  const secret = readFileSync(env.SIGNING_KEY_FILE, "utf8").replace(/\r?\n$/, "");
  const id = `helm-test-${randomUUID()}`;
  const body = JSON.stringify({
    event: "link.clicked",
    event_id: id,
    timestamp: new Date().toISOString(),
    data: { link_id: "helm-test", url: "https://example.com/helm-test" },
  });
  for (;;) {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
    const { status, answer } = await statusOf(`/v1/sources/${env.SOURCE}/events`, {
      method: "POST",
      body,
      headers: {
        "content-type": "application/json",
        "x-webhook-timestamp": timestamp,
        "x-webhook-signature": signature,
        "x-webhook-id": id,
      },
    });
    // 200 duplicate: an earlier try was stored and only its answer was lost.
    if (status === 202 || status === 200) {
      console.log(`receipt: ${status} ${answer}`);
      process.exit(0);
    }
    // A 4xx is the test's own fault (wrong secret, unknown source): retrying will not help.
    if ((status >= 400 && status < 500 && status !== 429) || Date.now() > deadline) {
      console.error(`no receipt: ${status} ${answer}`);
      process.exit(1);
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
}

await (env.SOURCE ? sendEvent() : waitReady());
