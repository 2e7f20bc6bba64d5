import { createHmac } from "node:crypto";

/**
 * Signs a body the way deep-link platforms do (`X-Webhook-Signature` = hex HMAC-SHA256 of
 * `${timestamp}.${body}`). Written here independently of @tributary/verify, so tests that use it
 * check the verifier rather than agree with it.
 */
export function signWebhook(input: {
  secret: string;
  body: string | Buffer;
  /** Unix seconds; default now. */
  timestamp?: number;
  deliveryId?: string;
}): Record<string, string> {
  const timestamp = String(input.timestamp ?? Math.floor(Date.now() / 1000));
  const mac = createHmac("sha256", input.secret);
  mac.update(`${timestamp}.`);
  mac.update(input.body);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-webhook-timestamp": timestamp,
    "x-webhook-signature": mac.digest("hex"),
  };
  if (input.deliveryId) headers["x-webhook-id"] = input.deliveryId;
  return headers;
}

let counter = 0;

/**
 * A sample deep-link event in their webhook envelope; unique unless `seed` repeats. The seed is
 * also its `event_id`, the envelope's event id, which keys it at the gateway: two bodies made from
 * one seed (moments apart, so with different timestamps) are the same event.
 */
export function sampleEvent(
  overrides: { type?: string; seed?: number | string; data?: Record<string, unknown> } = {},
): string {
  const seed = overrides.seed ?? `${process.pid}-${Date.now()}-${counter++}`;
  return JSON.stringify({
    event: overrides.type ?? "link.clicked",
    event_id: String(seed),
    timestamp: new Date().toISOString(),
    data: {
      link_id: `lnk_${seed}`,
      url: "https://app.example.com/product/42",
      campaign: "spring-sale",
      platform: "ios",
      ...overrides.data,
    },
  });
}
