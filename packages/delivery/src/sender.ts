import { oneLine } from "@tributary/streams";
import { Pool } from "undici";
import { policyConnector, type AddressPolicy } from "./address-policy.js";
import { parseRetryAfter } from "./backoff.js";
import { RESPONSE_SNIPPET_BYTES } from "./config.js";

export interface SendResult {
  status: number;
  latencyMs: number;
  /** Start of the response body (error answers only), one line. */
  snippet: string;
  retryAfterMs: number | undefined;
}

/** Bytes of an error body read at most; the rest is discarded with the connection. */
async function readSnippet(body: AsyncIterable<Uint8Array> & { dump?: () => Promise<void> }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(Buffer.from(chunk));
    size += chunk.length;
    if (size >= RESPONSE_SNIPPET_BYTES) break;
  }
  return oneLine(Buffer.concat(chunks).subarray(0, RESPONSE_SNIPPET_BYTES).toString("utf8"));
}

/**
 * POSTs to one destination over a keep-alive undici Pool (connections = maxInFlight). A timeout
 * covers the whole request (connect, headers and body); redirects are not followed. Every
 * connection goes through the address policy (policyConnector): a refused address fails the
 * request with AddressRefusedError before anything is sent.
 */
export class DestinationSender {
  readonly #pool: Pool;
  readonly #path: string;

  constructor(
    url: string,
    readonly timeoutMs: number,
    connections: number,
    policy: AddressPolicy,
  ) {
    const parsed = new URL(url);
    this.#path = `${parsed.pathname}${parsed.search}`;
    this.#pool = new Pool(parsed.origin, {
      connections,
      pipelining: 1,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      connect: policyConnector(policy, Math.min(timeoutMs, 10_000)),
      keepAliveTimeout: 30_000,
    });
  }

  /** Resolves with the answer; rejects only when there was none (timeout, refused, reset). */
  async send(body: Uint8Array, headers: Record<string, string>): Promise<SendResult> {
    const started = performance.now();
    const res = await this.#pool.request({
      method: "POST",
      path: this.#path,
      headers,
      body,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const ok = res.statusCode >= 200 && res.statusCode < 300;
    let snippet = "";
    if (ok) await res.body.dump();
    else snippet = await readSnippet(res.body).catch(() => "");
    return {
      status: res.statusCode,
      latencyMs: performance.now() - started,
      snippet,
      retryAfterMs: parseRetryAfter(res.headers["retry-after"]),
    };
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }

  /** For shutdown while a destination hangs: in-flight requests fail (and their events are redelivered). */
  async destroy(): Promise<void> {
    await this.#pool.destroy();
  }
}
