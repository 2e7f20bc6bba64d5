// `helm test`: sends one signed event to the gateway and waits for its receipt — a 202 is given
// only after the regional stream's PubAck, so a 202 means the event is stored. Signs as the demo
// source's provider does (webhook-hmac-sha256: X-Webhook-Signature = hex HMAC-SHA256 of `${timestamp}.${body}`).
import { createHmac, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";

const env = process.env;
const url = `${env.GATEWAY_URL}/v1/sources/${env.SOURCE}/events`;
const secret = readFileSync(env.SIGNING_KEY_FILE, "utf8").replace(/\r?\n$/, "");
const deadline = Date.now() + Number(env.TEST_TIMEOUT_MS ?? 60_000);
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
  let status = 0;
  let answer;
  try {
    const res = await fetch(url, {
      method: "POST",
      body,
      headers: {
        "content-type": "application/json",
        "x-webhook-timestamp": timestamp,
        "x-webhook-signature": signature,
        "x-webhook-id": id,
      },
    });
    status = res.status;
    answer = await res.text();
  } catch (err) {
    answer = err.message;
  }
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
