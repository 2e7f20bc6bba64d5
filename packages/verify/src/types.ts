import type { VerifyFailure } from "./codes.js";

/** One header as Node's `IncomingHttpHeaders` gives it. */
export type HeaderValue = string | string[] | undefined;

/**
 * The parts of an HTTP request a scheme may look at. Header names are lower-case, as Node's
 * HTTP parser (and Fastify) delivers them; schemes look names up verbatim and never scan.
 */
export interface VerifyRequest {
  headers: Record<string, HeaderValue>;
  /** The body exactly as received: any re-serialisation breaks the signature. */
  rawBody: Buffer;
}

/**
 * What a secret entry holds. `hmac` (the default) is a shared secret: the HMAC key. `ed25519-public`
 * is a sender's Ed25519 public key (32 raw bytes), used only for Standard Webhooks `v1a`
 * signatures. The kind is explicit because the two must never be confused: a public key used as
 * an HMAC key would let anyone who has seen it (it is public) forge signatures.
 */
export type SecretKind = "hmac" | "ed25519-public";

/**
 * One active secret of a source. `id` names it in results and rotation metrics, never the key.
 * A source lists all its active entries in one array; each scheme uses the kinds it understands
 * and skips the rest (only `standard-webhooks` and `svix` read `ed25519-public` entries).
 */
export interface SourceSecret {
  id: string;
  /** Decoded bytes: the HMAC key, or the raw 32-byte public key. Treated as immutable. */
  key: Buffer;
  /** Absent means `hmac`, so existing `{ id, key }` entries keep their meaning. */
  kind?: SecretKind;
}

/** Per-request inputs owned by the caller, so the package stays free of clocks and config files. */
export interface VerifyContext {
  /** Every secret currently accepted for the source; several during a rotation. */
  secrets: readonly SourceSecret[];
  toleranceSeconds: number;
  /** The receiver's clock, Unix seconds. */
  nowSeconds: number;
}

/** `deliveryId`: the signed id header's value (see DeliveryIdSource), never an unsigned one. */
export type VerifyResult =
  { ok: true; secretId: string; timestamp: number | null; deliveryId: string | null } | VerifyFailure;

/**
 * What identifies an event for the event key, from what the scheme's signature covers: whoever
 * replays a captured request can change anything outside it (a fresh id header would make a fresh
 * key, a new row and a new delivery), so only signed content may key.
 *
 * - `header`: an id header inside the signed content (Standard Webhooks' `webhook-id`); `verify`
 *   returns it as `deliveryId`.
 * - `body`: a field of the JSON body, which the body's signature covers (Stripe's event `id`, the
 *   deep-link envelope's `event_id`); this package never parses bodies, so `verify` returns
 *   `deliveryId: null` and the caller reads the field (the gateway's `idField`), falling back to
 *   the body's hash when it is absent.
 * - `none`: the body's hash.
 *
 * No scheme offers an id header its signature does not cover: providers whose delivery-id header
 * is unsigned (GitHub, Shopify, the deep-link platforms) are keyed by their body.
 */
export type DeliveryIdSource =
  | { readonly from: "header"; readonly header: string }
  | { readonly from: "body"; readonly field: string }
  | { readonly from: "none" };

/** What a check of the headers alone needs: the clock and tolerance, no secrets (it computes no MAC). */
export type HeaderCheckContext = Pick<VerifyContext, "toleranceSeconds" | "nowSeconds">;

/** A provider's signature format. Implementations never throw on request input. */
export interface SignatureScheme {
  readonly name: string;
  readonly deliveryIdSource: DeliveryIdSource;
  /**
   * The signature covers a timestamp checked against `toleranceSeconds`, so a captured request is
   * accepted only within that window. Without one, only deduplication of the key stops a replay.
   */
  readonly signsTimestamp: boolean;
  verify(req: VerifyRequest, ctx: VerifyContext): VerifyResult;
  /**
   * The checks `verify` makes before any MAC (presence, format, repetition, tolerance), on the
   * headers alone: the failure `verify` would return, or null when they pass. A caller runs it
   * before reading the body, so a request that cannot verify costs neither buffering nor hashing.
   */
  checkHeaders(headers: Record<string, HeaderValue>, ctx: HeaderCheckContext): VerifyFailure | null;
}
