import { sampleEvent, signWebhook } from "@tributary/testkit";

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
    const body = sampleEvent({ type: opts.type });
    const res = await fetch(`${opts.url}/v1/sources/${opts.source}/events`, {
      method: "POST",
      headers: signWebhook({ secret: opts.secret, body }),
      body,
    });
    results.push({ status: res.status, body: await res.json().catch(() => null) });
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
