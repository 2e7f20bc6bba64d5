import { createHash } from "node:crypto";
import { ConfigError } from "@tributary/errors";

/** Longest provider id kept verbatim, in characters. */
export const EVENT_ID_MAX_LENGTH = 256;

/** Prefix of ids made by hashing (the raw body, or an unusable provider id). */
export const HASHED_ID_PREFIX = "sha256:";

/**
 * Visible ASCII, no space. The key travels as the NATS `Nats-Msg-Id` header (header values are
 * trimmed and must not hold CR/LF or non-ASCII safely) and is the warehouse's unique key, so it
 * must survive both byte-for-byte; a space is excluded because header parsers trim it at the
 * edges, which would make the stream and the warehouse disagree on the key.
 */
const SAFE_ID = /^[\x21-\x7e]+$/;
/** A source id as it appears before the first ':' of a key. */
const SAFE_SOURCE = /^[\x21-\x39\x3b-\x7e]{1,128}$/; // visible ASCII except ':'

export type IdSource = "delivery-id" | "body-field" | "body-hash";

export interface EventKeyInput {
  /** The configured source id (from the route). */
  source: string;
  /**
   * A delivery id the request's signature covers (Standard Webhooks' `webhook-id`, as
   * @tributary/verify returns it); null/empty when absent. Never an unsigned header: whoever
   * replays a request could change it, and every new id would be a new key.
   */
  signedDeliveryId?: string | null | undefined;
  /** The configured body field's value (see readBodyField); null/empty when absent. */
  bodyEventId?: string | null | undefined;
  /** The body exactly as received. */
  rawBody: Buffer;
}

export interface EventKey {
  /** `${source}:${eventId}` — Nats-Msg-Id, aggregator recent key, warehouse unique key. */
  eventKey: string;
  eventId: string;
  /** Where the id came from (before any hashing of an unusable id). */
  idSource: IdSource;
}

export function sha256Id(data: Buffer | string): string {
  return HASHED_ID_PREFIX + createHash("sha256").update(data).digest("hex");
}

/**
 * A provider id made safe for headers and keys: kept verbatim when it is 1–256 visible ASCII
 * characters, otherwise replaced by `sha256:` of its UTF-8 bytes. Hashing (rather than refusing
 * or truncating) keeps retries of the same event on the same key while bounding its length.
 */
export function normaliseEventId(id: string): string {
  return id.length <= EVENT_ID_MAX_LENGTH && SAFE_ID.test(id) ? id : sha256Id(id);
}

export function isValidSourceId(source: string): boolean {
  return SAFE_SOURCE.test(source);
}

/**
 * The event key, promise 3: the signed delivery id when present, else the configured body field,
 * else the SHA-256 of the raw body (a retry sends the same bytes). Every one of them is covered by
 * the signature, so a replayed request keeps its key. Pure and total for any event input; throws
 * ConfigError only for an invalid source id, which is configuration.
 */
export function deriveEventKey(input: EventKeyInput): EventKey {
  const { source, signedDeliveryId: deliveryId, bodyEventId, rawBody } = input;
  if (typeof source !== "string" || !isValidSourceId(source)) {
    throw new ConfigError("source", 'must be 1-128 visible ASCII characters without ":"');
  }
  let eventId: string;
  let idSource: IdSource;
  if (typeof deliveryId === "string" && deliveryId !== "") {
    eventId = normaliseEventId(deliveryId);
    idSource = "delivery-id";
  } else if (typeof bodyEventId === "string" && bodyEventId !== "") {
    eventId = normaliseEventId(bodyEventId);
    idSource = "body-field";
  } else {
    eventId = sha256Id(rawBody);
    idSource = "body-hash";
  }
  return { eventKey: `${source}:${eventId}`, eventId, idSource };
}
