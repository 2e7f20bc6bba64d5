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

export type VerifyResult =
  { ok: true; secretId: string; timestamp: number | null; deliveryId: string | null } | VerifyFailure;

/**
 * Where a scheme finds the provider's delivery id, for the event key. `header`: `verify` returns
 * it as `deliveryId`. `body`: the id is a field of the JSON body (Stripe's event `id`), which this
 * package never parses; `verify` returns `deliveryId: null` and the caller reads the field (the
 * gateway's `idField`). `none`: the key falls back to the body hash.
 */
export type DeliveryIdSource =
  | { readonly from: "header"; readonly header: string; readonly signed: boolean }
  | { readonly from: "body"; readonly field: string }
  | { readonly from: "none" };

/** A provider's signature format. Implementations never throw on request input. */
export interface SignatureScheme {
  readonly name: string;
  readonly deliveryIdSource: DeliveryIdSource;
  verify(req: VerifyRequest, ctx: VerifyContext): VerifyResult;
}
