// @ts-check
/**
 * Builds the requests the k6 script sends, signed exactly as the gateway verifies the
 * `webhook-hmac-sha256` scheme: `X-Webhook-Signature` = hex HMAC-SHA256 of
 * `${X-Webhook-Timestamp}.${body}`, the delivery id in `X-Webhook-Id`. The gateway keys each
 * event by its body's `event_id` (the scheme signs the body, not that header), which payload.js
 * sets to the same id. A batch is NDJSON under one signature; its items are keyed the same way.
 * The contract test (test/k6-contract.int.test.ts) runs this file under a shim of k6/crypto
 * and sends what it builds to a real gateway.
 */
import crypto from "k6/crypto";

/**
 * @typedef {{ method: "POST", url: string, body: string, headers: Record<string, string> }} BuiltRequest
 */

/**
 * @param {string} secret
 * @param {string} body
 * @param {number} timestampSeconds
 * @returns {string}
 */
export function signature(secret, body, timestampSeconds) {
  return /** @type {string} */ (crypto.hmac("sha256", secret, `${timestampSeconds}.${body}`, "hex"));
}

/**
 * One event to `POST /v1/sources/{source}/events`.
 * @param {{ baseUrl: string, source: string, secret: string, body: string, deliveryId: string, timestampSeconds: number }} input
 * @returns {BuiltRequest}
 */
export function singleEventRequest(input) {
  return {
    method: "POST",
    url: `${input.baseUrl}/v1/sources/${encodeURIComponent(input.source)}/events`,
    body: input.body,
    headers: {
      "content-type": "application/json",
      "x-webhook-timestamp": String(input.timestampSeconds),
      "x-webhook-signature": signature(input.secret, input.body, input.timestampSeconds),
      "x-webhook-id": input.deliveryId,
    },
  };
}

/**
 * Many events to `POST /v1/sources/{source}/batch` as NDJSON, one signature over the whole body.
 * @param {{ baseUrl: string, source: string, secret: string, bodies: readonly string[], timestampSeconds: number }} input
 * @returns {BuiltRequest}
 */
export function batchRequest(input) {
  const body = input.bodies.join("\n") + "\n";
  return {
    method: "POST",
    url: `${input.baseUrl}/v1/sources/${encodeURIComponent(input.source)}/batch`,
    body,
    headers: {
      "content-type": "application/x-ndjson",
      "x-webhook-timestamp": String(input.timestampSeconds),
      "x-webhook-signature": signature(input.secret, body, input.timestampSeconds),
    },
  };
}

/**
 * The event key the gateway derives for a batch item: `source:<event_id>` (the default scheme's
 * id field, which every body from payload.js carries), else `source:sha256:<hex of its bytes>`.
 * @param {string} source
 * @param {string} item
 * @returns {string}
 */
export function batchItemKey(source, item) {
  const id = /** @type {{ event_id?: unknown }} */ (JSON.parse(item)).event_id;
  return typeof id === "string" && id !== "" ? `${source}:${id}` : `${source}:sha256:${crypto.sha256(item, "hex")}`;
}
