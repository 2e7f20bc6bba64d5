import { LOCAL_SOURCE_SCHEME, signWebhookHmacSha256 } from "@tributary/local";
import { signStandardWebhooks, standardWebhooksSigningKey } from "@tributary/verify";

/** Signs one request: the body and its delivery id → the headers to send. */
export type RequestSigner = (body: string, deliveryId: string) => Record<string, string>;

/** The schemes `send` can sign with; the gateway verifies more (verifying needs no private tooling). */
export const SENDABLE_SCHEMES = [LOCAL_SOURCE_SCHEME, "standard-webhooks"] as const;

/**
 * Where each signer comes from: webhook-hmac-sha256 (the local source's scheme) from
 * @tributary/local's signWebhookHmacSha256 (node:crypto; @tributary/verify has no signer for it),
 * Standard Webhooks from @tributary/verify's signStandardWebhooks (what the delivery side signs with).
 */
export function signerFor(scheme: string, secret: string): RequestSigner {
  switch (scheme) {
    case LOCAL_SOURCE_SCHEME:
      return (body, deliveryId) => signWebhookHmacSha256({ secret, body, deliveryId });
    case "standard-webhooks": {
      const key = standardWebhooksSigningKey(secret);
      return (body, deliveryId) => ({
        "content-type": "application/json",
        ...signStandardWebhooks(
          { id: deliveryId, timestampSeconds: Math.floor(Date.now() / 1000), body: Buffer.from(body) },
          [key],
        ),
      });
    }
    default:
      throw new Error(
        `send cannot sign with scheme ${JSON.stringify(scheme)} yet: it signs ${SENDABLE_SCHEMES.join(" and ")}`,
      );
  }
}

let counter = 0;

/** A sample deep-link event in their webhook envelope (`link_id: lnk_<unique>`), as `send` posts them. */
export function sampleEvent(type: string): string {
  const seed = `${process.pid}-${Date.now()}-${counter++}`;
  return JSON.stringify({
    event: type,
    timestamp: new Date().toISOString(),
    data: {
      link_id: `lnk_${seed}`,
      url: "https://app.example.com/product/42",
      campaign: "spring-sale",
      platform: "ios",
    },
  });
}

export interface SendOptions {
  url: string;
  source: string;
  secret: string;
  type: string;
  count: number;
}

export interface SendResult {
  status: number;
  body: unknown;
}

/** Sends `count` correctly signed sample events and returns each answer. */
export async function sendSamples(opts: SendOptions): Promise<SendResult[]> {
  const results: SendResult[] = [];
  for (let i = 0; i < opts.count; i++) {
    const body = sampleEvent(opts.type);
    const res = await fetch(`${opts.url}/v1/sources/${opts.source}/events`, {
      method: "POST",
      headers: signWebhookHmacSha256({ secret: opts.secret, body }),
      body,
    });
    results.push({ status: res.status, body: await res.json().catch(() => null) });
  }
  return results;
}

export interface SendManyOptions extends SendOptions {
  /** How to sign (default: the local source's webhook-hmac-sha256 with `secret`). */
  sign?: RequestSigner;
  /** Events per second (0: one after another, as fast as answers come). */
  rate: number;
  /** Share of sends (0–1) that resend an earlier event: same body, same delivery id, same key. */
  resendShare: number;
  onResult?: (result: SendResult & { resend: boolean }) => void;
}

/**
 * Sends `count` signed events at `rate`, some of them resends of earlier ones (as senders retry),
 * and reports each receipt. Resends carry the first send's delivery id, so they have its key and
 * are answered `200 duplicate` by the region (or deduplicated later).
 */
export async function sendEvents(opts: SendManyOptions): Promise<Array<SendResult & { resend: boolean }>> {
  const sent: Array<{ body: string; deliveryId: string }> = [];
  const results: Array<SendResult & { resend: boolean }> = [];
  const started = Date.now();
  for (let i = 0; i < opts.count; i++) {
    if (opts.rate > 0) {
      const due = started + (i * 1000) / opts.rate;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    const resend = sent.length > 0 && Math.random() < opts.resendShare;
    const event = resend
      ? sent[Math.floor(Math.random() * sent.length)]!
      : {
          body: sampleEvent(opts.type),
          deliveryId: `cli-${Date.now().toString(36)}-${i}-${Math.random().toString(36).slice(2, 8)}`,
        };
    if (!resend) sent.push(event);
    const res = await fetch(`${opts.url}/v1/sources/${opts.source}/events`, {
      method: "POST",
      headers: (opts.sign ?? signerFor(LOCAL_SOURCE_SCHEME, opts.secret))(event.body, event.deliveryId),
      body: event.body,
    });
    const result = { status: res.status, body: await res.json().catch(() => null), resend };
    results.push(result);
    opts.onResult?.(result);
  }
  return results;
}

/** A copy-paste command that signs and sends one event with curl and openssl. */
export function curlExample(url: string, source: string, secretFile: string): string {
  return [
    `SECRET=$(cat ${secretFile})`,
    `BODY='{"event":"link.clicked","timestamp":"'$(date -u +%FT%TZ)'","data":{"link_id":"lnk_hello","platform":"ios"}}'`,
    `TS=$(date +%s)`,
    `SIG=$(printf '%s' "$TS.$BODY" | openssl dgst -sha256 -hmac "$SECRET" | sed 's/^.* //')`,
    `curl -sS -X POST ${url}/v1/sources/${source}/events -H 'content-type: application/json' -H "x-webhook-timestamp: $TS" -H "x-webhook-signature: $SIG" --data-binary "$BODY"; echo`,
  ].join("\n");
}
