import { createHmac } from "node:crypto";

/** The scheme the local system's gateways verify its source with. */
export const LOCAL_SOURCE_SCHEME = "webhook-hmac-sha256";

/**
 * Signs a request the way a `webhook-hmac-sha256` source is verified (the local source's scheme):
 * `x-webhook-signature` is the hex HMAC-SHA256 of `${x-webhook-timestamp}.${body}`, the timestamp
 * in Unix seconds. @tributary/verify signs only Standard Webhooks (the delivery side's outbound
 * requests) and verifies this scheme, so the signing direction is written here with node:crypto;
 * its test has verify's own scheme check it. Returns lower-case headers, `content-type` included.
 */
export function signWebhookHmacSha256(input: {
  secret: string;
  body: string | Uint8Array;
  /** Unix seconds; default now. */
  timestamp?: number;
  /** Sent as `x-webhook-id`, as the platforms send it; the gateway does not key by it (it is not signed). */
  deliveryId?: string;
}): Record<string, string> {
  const timestamp = String(input.timestamp ?? Math.floor(Date.now() / 1000));
  const signature = createHmac("sha256", input.secret).update(`${timestamp}.`).update(input.body).digest("hex");
  return {
    "content-type": "application/json",
    "x-webhook-timestamp": timestamp,
    "x-webhook-signature": signature,
    ...(input.deliveryId ? { "x-webhook-id": input.deliveryId } : {}),
  };
}
