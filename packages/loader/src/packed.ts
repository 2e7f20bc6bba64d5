import type { JsMsg } from "@nats-io/jetstream";
import { trackedDelivery } from "@tributary/streams";
import type { StreamMessage } from "./rows.js";

/**
 * A batch of stream messages as one buffer, transferred (not copied) to a mapping worker: for each
 * message its subject, ack subject, header block and body, back to back.
 */
export interface PackedMessages {
  count: number;
  bytes: ArrayBuffer;
  /** Four per message: where its subject, ack subject, headers and body end in `bytes`. */
  ends: Uint32Array;
}

interface WireParts {
  subject: Uint8Array;
  reply: Uint8Array;
  headers: Uint8Array;
  data: Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);

/** nats.js's own message (MsgImpl) under a JsMsg: the bytes it decodes subject, reply and headers from, when asked. */
interface NatsWire {
  msg?: { _msg?: { subject?: unknown; reply?: unknown; hdr?: unknown }; _rdata?: unknown };
}

/**
 * The wire bytes of a message as nats.js received them. It keeps them and decodes the subject,
 * the ack subject and the headers only when asked, so reading them raw leaves that decoding (and
 * the parse of the ack subject for the sequence) to the worker. They are nats.js internals:
 * undefined when they are not there, and the message is packed through its public API instead.
 */
export function wireParts(msg: JsMsg): WireParts | undefined {
  const m = (trackedDelivery(msg) as unknown as NatsWire).msg;
  const arg = m?._msg;
  const raw = m?._rdata;
  if (!arg || !(arg.subject instanceof Uint8Array) || typeof arg.hdr !== "number") return undefined;
  if (!(raw instanceof Uint8Array) && raw !== undefined) return undefined;
  const data = raw ?? EMPTY;
  const hdr = arg.hdr;
  return {
    subject: arg.subject,
    reply: arg.reply instanceof Uint8Array ? arg.reply : EMPTY,
    headers: hdr > 0 ? data.subarray(0, hdr) : EMPTY,
    data: hdr > 0 ? data.subarray(hdr) : data,
  };
}

/**
 * The same parts through the public API: decoded by nats.js, encoded again (the NATS header
 * block), the stream sequence as the short form of an ack subject.
 */
function publicParts(msg: JsMsg): WireParts {
  let headers = EMPTY;
  if (msg.headers) {
    let block = "NATS/1.0\r\n";
    for (const key of msg.headers.keys()) for (const value of msg.headers.values(key)) block += `${key}: ${value}\r\n`;
    headers = encoder.encode(`${block}\r\n`);
  }
  const reply = encoder.encode(`$JS.ACK.s.c.1.${msg.seq}.0.0.0`);
  return { subject: encoder.encode(msg.subject), reply, headers, data: msg.data };
}

export function packMessages(msgs: readonly JsMsg[]): PackedMessages {
  const parts = msgs.map((m) => wireParts(m) ?? publicParts(m));
  let size = 0;
  for (const p of parts) size += p.subject.length + p.reply.length + p.headers.length + p.data.length;
  const bytes = new Uint8Array(size);
  const ends = new Uint32Array(parts.length * 4);
  let at = 0;
  let e = 0;
  const put = (b: Uint8Array) => {
    bytes.set(b, at);
    at += b.length;
    ends[e++] = at;
  };
  for (const p of parts) {
    put(p.subject);
    put(p.reply);
    put(p.headers);
    put(p.data);
  }
  return { count: parts.length, bytes: bytes.buffer, ends };
}

/** The stream sequence in a JetStream ack subject (`$JS.ACK.[<domain>.<hash>.]<stream>.<consumer>.<delivered>.<seq>…`); NaN otherwise. */
export function streamSeqOf(reply: string): number {
  const t = reply.split(".");
  if (t[0] !== "$JS" || t[1] !== "ACK") return NaN;
  if (t.length === 9) return Number(t[5]);
  if (t.length >= 11) return Number(t[7]);
  return NaN;
}

/** Message `i` of a packed batch, as the mapping reads it (headers decoded by `decodeHeaders`). */
export function unpackMessage(
  packed: PackedMessages,
  i: number,
  decodeHeaders: (block: Uint8Array) => StreamMessage["headers"],
): StreamMessage {
  const bytes = new Uint8Array(packed.bytes);
  const start = i === 0 ? 0 : packed.ends[i * 4 - 1]!;
  const [subjectEnd, replyEnd, headersEnd, dataEnd] = packed.ends.subarray(i * 4, i * 4 + 4);
  const subject = decoder.decode(bytes.subarray(start, subjectEnd));
  const reply = decoder.decode(bytes.subarray(subjectEnd, replyEnd));
  return {
    subject,
    headers: headersEnd! > replyEnd! ? decodeHeaders(bytes.subarray(replyEnd, headersEnd)) : undefined,
    data: bytes.subarray(headersEnd, dataEnd),
    seq: streamSeqOf(reply),
  };
}

/**
 * A NATS header block (`NATS/1.0\r\nName: value\r\n…`) read the way nats.js reads it — keys
 * exact, values trimmed, the first value of a repeated key — without building a MsgHdrs (a tenth
 * of the mapping's time): the mapping only gets and tests a few names.
 */
export function decodeHeaders(block: Uint8Array): { get(name: string): string; has(name: string): boolean } {
  const map = new Map<string, string>();
  const lines = decoder.decode(block).split("\r\n");
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const key = line.slice(0, colon);
    if (!map.has(key)) map.set(key, line.slice(colon + 1).trim());
  }
  return { get: (name) => map.get(name) ?? "", has: (name) => map.has(name) };
}
