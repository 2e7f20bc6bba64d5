import { sleep } from "@tributary/processes";

export interface GatewayAnswer {
  status: number;
  headers: Headers;
  /** The parsed JSON body (every gateway answer is JSON). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read any answer's fields; a wrong one fails the assertion
  json: any;
  /** Time of the last request only (the one answered), ms. */
  ms: number;
  /** How many times the pressure guard refused the request before this answer. */
  pressureRefusals: number;
}

/**
 * Whether an answer is the gateway's pressure guard shedding load: 503 overloaded because its event
 * loop lagged or its heap is high (@fastify/under-pressure, in the onRequest hook, before the body is
 * read). Nothing was verified or stored, so resending is exactly what a webhook sender does. On a
 * loaded machine (CI: two packages' tests on two cores) a gateway process that is not scheduled for
 * one 500 ms sample has no event-loop samples at all, which under-pressure reports as an infinite
 * delay. The other 503 overloaded (`details.limit` = `publishes_in_flight`)
 * is not this: it says the regional stream is slow, and tests see it.
 */
export function isPressureRefusal(status: number, json: unknown): boolean {
  const error = (json as { error?: { code?: string; details?: { limit?: string } } } | undefined)?.error;
  const limit = error?.details?.limit;
  return status === 503 && error?.code === "overloaded" && (limit === "event_loop_delay" || limit === "heap_used");
}

/**
 * POSTs to a gateway as a sender would: a pressure refusal is sent again after its Retry-After
 * (capped at `maxWaitMs`), up to `maxRetries` times; any other answer is returned as it is.
 */
export async function postToGateway(
  url: string,
  init: { headers: Record<string, string>; body: string | Uint8Array },
  opts: { maxRetries?: number; maxWaitMs?: number } = {},
): Promise<GatewayAnswer> {
  const maxRetries = opts.maxRetries ?? 60;
  for (let refusals = 0; ; refusals++) {
    const started = Date.now();
    const res = await fetch(url, { method: "POST", headers: init.headers, body: init.body });
    const json: unknown = await res.json();
    if (!isPressureRefusal(res.status, json) || refusals >= maxRetries) {
      return { status: res.status, headers: res.headers, json, ms: Date.now() - started, pressureRefusals: refusals };
    }
    const after = Number(res.headers.get("retry-after"));
    await sleep(Math.min(Number.isFinite(after) && after > 0 ? after * 1000 : 1000, opts.maxWaitMs ?? 1000));
  }
}
