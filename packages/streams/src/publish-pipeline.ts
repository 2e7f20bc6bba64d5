import { MsgHdrsImpl, type Msg, type NatsConnection, type Subscription } from "@nats-io/nats-core";
import { inboxOf } from "./connect.js";
import { EventHeader } from "./names.js";
import { pubAckFailure, PublishError, type EventMessage, type PublishReceipt } from "./publish.js";

/** Header values must not break the NATS header block. */
const UNSAFE_HEADER_VALUE = /[\r\n]/;

/**
 * Header bytes handed to the NATS client as they are. The client only calls `encode()` on the
 * headers of an outgoing message, synchronously inside `publish()` (nats-core
 * `ProtocolHandler.publish`); building the block ourselves skips MsgHdrsImpl's per-header map, key
 * canonicalisation and value checks on the hot path. One instance is reused for every publish: its
 * bytes are set just before each `nc.publish()` call, so no header object is allocated per event.
 * The values are checked where they are made (source and region ids at config load, keys and
 * event types by their patterns) and once more for CR/LF in EventHeaderEncoder.
 */
class EncodedHeaders extends MsgHdrsImpl {
  bytes: Uint8Array = new Uint8Array(0);
  override encode(): Uint8Array {
    return this.bytes;
  }
}

/**
 * Builds an event's header block: the part that is the same for every event of a source in the
 * region (`NATS/1.0`, source, region) is a string made once per source; per event only the key,
 * the received-at time and the event type are added. The received-at text is cached per
 * millisecond (all items of a batch, and many concurrent requests, share it).
 */
export class EventHeaderEncoder {
  readonly #prefixes = new Map<string, string>();
  #lastMs = Number.NaN;
  #lastIso = "";

  #prefix(source: string, region: string): string {
    const id = `${region}\u0000${source}`;
    let prefix = this.#prefixes.get(id);
    if (prefix === undefined) {
      if (UNSAFE_HEADER_VALUE.test(source) || UNSAFE_HEADER_VALUE.test(region))
        throw new TypeError("source and region must not hold CR or LF");
      prefix = `NATS/1.0\r\n${EventHeader.Source}: ${source}\r\n${EventHeader.Region}: ${region}\r\n`;
      this.#prefixes.set(id, prefix);
    }
    return prefix;
  }

  #iso(date: Date): string {
    const ms = date.getTime();
    if (ms !== this.#lastMs) {
      this.#lastMs = ms;
      this.#lastIso = date.toISOString();
    }
    return this.#lastIso;
  }

  encode(msg: EventMessage): Uint8Array {
    let text = `${this.#prefix(msg.source, msg.region)}${EventHeader.MsgId}: ${msg.eventKey}\r\n${EventHeader.ReceivedAt}: ${this.#iso(msg.receivedAt)}\r\n${EventHeader.EventType}: ${msg.eventType}\r\n`;
    if (msg.secretId !== undefined) {
      if (UNSAFE_HEADER_VALUE.test(msg.secretId)) throw new TypeError("secret id must not hold CR or LF");
      text += `${EventHeader.SecretId}: ${msg.secretId}\r\n`;
    }
    if (msg.extraHeaders !== undefined) {
      for (const name in msg.extraHeaders) {
        const value = msg.extraHeaders[name]!;
        if (UNSAFE_HEADER_VALUE.test(name) || UNSAFE_HEADER_VALUE.test(value))
          throw new TypeError(`header ${JSON.stringify(name)} must not hold CR or LF`);
        text += `${name}: ${value.trim()}\r\n`;
      }
    }
    if (UNSAFE_HEADER_VALUE.test(msg.eventKey) || UNSAFE_HEADER_VALUE.test(msg.eventType))
      throw new TypeError("event key and type must not hold CR or LF");
    // Every part is ASCII (ids, keys and types are restricted to it), so latin1 is exact, and
    // Buffer.from slices small strings out of Node's shared pool instead of allocating.
    return Buffer.from(`${text}\r\n`, "latin1");
  }
}

interface RawPubAck {
  stream?: string;
  seq?: number;
  duplicate?: boolean;
  error?: { err_code?: number; description?: string };
}

/** The common PubAck, `{"stream":"EVENTS_US","domain":"us","seq":42}` (and `,"duplicate":true`). */
const PLAIN_ACK = /^\{"stream":"([^"\\]+)",(?:"domain":"[^"\\]*",)?"seq":(\d+)(,"duplicate":true)?\}$/;

/**
 * Reads a PubAck. The plain success form (one per event, so tens of thousands a second) is matched
 * by one regex; anything else (errors, fields a newer server adds) goes through JSON.parse.
 */
export function parsePubAck(text: string): RawPubAck {
  const plain = PLAIN_ACK.exec(text);
  if (plain !== null) return { stream: plain[1]!, seq: Number(plain[2]), duplicate: plain[3] !== undefined };
  return JSON.parse(text) as RawPubAck;
}

interface Pending {
  resolve: (receipt: PublishReceipt) => void;
  reject: (err: PublishError) => void;
  /** performance.now() after which the publish fails as buffer_unavailable. */
  deadline: number;
}

export interface JetStreamPipelineOptions {
  /** How long to wait for a PubAck before failing with buffer_unavailable. */
  timeoutMs: number;
  /** Called when the stream refuses an event as full (before the publish's promise rejects). */
  onFull?: () => void;
}

/**
 * JetStream publishes pipelined over one connection, the way the Go client's PublishAsync does:
 * every publish carries a reply subject under one inbox subscription, many are in flight at once
 * (the client writes them out together on the next microtask), and PubAcks are matched back by
 * their token. Compared with `js.publish` (one request each, with its own timer, promise race and
 * async stack trace) this is about three times the publish rate from one Node process.
 *
 * Timeouts use one sweep timer: all publishes share the same timeout, so the pending map (in
 * insertion order) is also in deadline order and a sweep stops at the first live entry.
 */
export class JetStreamPipeline {
  readonly #nc: NatsConnection;
  readonly #inbox: string;
  readonly #sub: Subscription;
  readonly #pending = new Map<number, Pending>();
  readonly #timeoutMs: number;
  readonly #onFull: (() => void) | undefined;
  readonly #sweeper: NodeJS.Timeout;
  readonly #headers = new EventHeaderEncoder();
  readonly #encoded = new EncodedHeaders();
  /** Publishes waiting for the next check phase, written out together (see publish()). */
  #queue: Array<{ subject: string; body: Uint8Array; token: number; headers: Uint8Array }> = [];
  #flushScheduled = false;
  #token = 0;
  #idle: Array<() => void> = [];

  constructor(nc: NatsConnection, options: JetStreamPipelineOptions) {
    this.#nc = nc;
    this.#timeoutMs = options.timeoutMs;
    this.#onFull = options.onFull;
    // Under the connection's own inbox prefix: the gateway's NATS user may subscribe there only.
    this.#inbox = `${inboxOf(nc)}.`;
    this.#sub = nc.subscribe(`${this.#inbox}*`, {
      callback: (err, msg) => (err ? this.failAll("the PubAck subscription failed") : this.#onAck(msg)),
    });
    this.#sweeper = setInterval(() => this.#sweep(), Math.max(10, Math.min(250, Math.floor(options.timeoutMs / 4))));
    this.#sweeper.unref();
  }

  /** Publishes awaiting their PubAck. */
  get pending(): number {
    return this.#pending.size;
  }

  /**
   * Publishes one event with its key as `Nats-Msg-Id` and resolves on the stream's PubAck; every
   * failure is a PublishError (buffer_full, stream_not_found, message_too_large, buffer_unavailable).
   */
  publish(msg: EventMessage): Promise<PublishReceipt> {
    let headers: Uint8Array;
    try {
      headers = this.#headers.encode(msg);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return this.publishEncoded(msg.subject, msg.body, headers);
  }

  /**
   * The same for any message whose NATS header block is encoded already (`MsgHdrs.encode()`, or
   * EventHeaderEncoder): `Nats-Msg-Id`, `Nats-Expected-Stream` and the rest go in that block.
   */
  publishEncoded(subject: string, body: Uint8Array, headers: Uint8Array): Promise<PublishReceipt> {
    return new Promise<PublishReceipt>((resolve, reject) => {
      // The client would throw at write time (body + headers over the server's max_payload) and
      // the sender would be told to retry forever; refused here instead, as never storable.
      const maxPayload = this.#nc.info?.max_payload;
      if (maxPayload !== undefined && headers.length + body.length > maxPayload) {
        reject(new PublishError("message_too_large", "the event is larger than the NATS server takes"));
        return;
      }
      const token = this.#token++;
      this.#pending.set(token, { resolve, reject, deadline: performance.now() + this.#timeoutMs });
      this.#queue.push({ subject, body, token, headers });
      if (!this.#flushScheduled) {
        // Concurrent requests finish their checks in the same turn of the event loop; handing their
        // publishes to the client together, after that turn, makes them one socket write instead
        // of one write (and one wake-up of nats-server) per request.
        this.#flushScheduled = true;
        setImmediate(this.#flush);
      }
    });
  }

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    const queue = this.#queue;
    this.#queue = [];
    const encoded = this.#encoded;
    for (const item of queue) {
      // Failed meanwhile (the connection dropped): do not store what was already answered 503.
      if (!this.#pending.has(item.token)) continue;
      encoded.bytes = item.headers;
      try {
        this.#nc.publish(item.subject, item.body, {
          reply: `${this.#inbox}${item.token.toString(36)}`,
          headers: encoded,
        });
      } catch (err) {
        const pending = this.#pending.get(item.token);
        this.#pending.delete(item.token);
        // Fixed text for the sender; the client's own message stays in `cause`.
        pending?.reject(
          new PublishError("buffer_unavailable", "the regional stream did not acknowledge", { cause: err }),
        );
      }
    }
    encoded.bytes = new Uint8Array(0);
  };

  #onAck(msg: Msg): void {
    const token = Number.parseInt(msg.subject.slice(this.#inbox.length), 36);
    const pending = this.#pending.get(token);
    if (pending === undefined) return; // timed out already, or failed on a disconnect
    this.#pending.delete(token);
    this.#settle(pending, msg);
    if (this.#pending.size === 0) this.#wakeIdle();
  }

  #settle(pending: Pending, msg: Msg): void {
    if (msg.data.length === 0) {
      // A status message: 503 is "no responders" (no stream listens on the subject, or JetStream
      // is not ready), anything else is as unexpected.
      const code = msg.headers?.code ?? 0;
      pending.reject(
        new PublishError(
          "buffer_unavailable",
          code === 503 ? "no JetStream stream answered (no responders)" : `unexpected status ${code} from JetStream`,
        ),
      );
      return;
    }
    let ack: RawPubAck | undefined;
    try {
      ack = parsePubAck(Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength).toString("latin1"));
    } catch {
      ack = undefined;
    }
    if (ack === undefined) {
      pending.reject(new PublishError("buffer_unavailable", "the regional stream answered with an unreadable PubAck"));
      return;
    }
    if (ack.error !== undefined) {
      const failure = pubAckFailure(ack.error.err_code, ack.error.description ?? "unknown error");
      if (failure.code === "buffer_full") this.#onFull?.();
      pending.reject(failure);
      return;
    }
    if (typeof ack.stream !== "string" || ack.stream === "" || typeof ack.seq !== "number") {
      pending.reject(new PublishError("buffer_unavailable", "the regional stream answered with an invalid PubAck"));
      return;
    }
    pending.resolve({ stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate === true });
  }

  #sweep(): void {
    const now = performance.now();
    for (const [token, pending] of this.#pending) {
      if (pending.deadline > now) break;
      this.#pending.delete(token);
      pending.reject(
        new PublishError("buffer_unavailable", `the regional stream did not acknowledge within ${this.#timeoutMs} ms`),
      );
    }
    if (this.#pending.size === 0) this.#wakeIdle();
  }

  /**
   * Fails every publish in flight as buffer_unavailable, e.g. when the connection drops: their
   * PubAcks cannot arrive on a new connection, so waiting out the timeout would only hold requests.
   * (The events may have been stored; the sender's retry then answers duplicate.)
   */
  failAll(reason: string): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending)
      p.reject(new PublishError("buffer_unavailable", `the regional stream did not acknowledge: ${reason}`));
    this.#wakeIdle();
  }

  #wakeIdle(): void {
    const waiters = this.#idle;
    this.#idle = [];
    for (const wake of waiters) wake();
  }

  /** Resolves once nothing is in flight (every publish acknowledged, failed or timed out). */
  idle(): Promise<void> {
    if (this.#pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Stops the sweeper and the inbox subscription (after idle(), nothing is lost). */
  close(): void {
    clearInterval(this.#sweeper);
    this.failAll("the publisher closed");
    if (!this.#sub.isClosed()) this.#sub.unsubscribe();
  }
}
