import type { VerifyFailureCode } from './codes.js';

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

/** One active secret of a source. `id` names it in results and rotation metrics, never the key. */
export interface SourceSecret {
  id: string;
  /** Decoded secret bytes (the HMAC key). */
  key: Buffer;
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
  | { ok: true; secretId: string; timestamp: number | null; deliveryId: string | null }
  | { ok: false; code: VerifyFailureCode; message: string };

/** A provider's signature format. Implementations never throw on request input. */
export interface SignatureScheme {
  readonly name: string;
  verify(req: VerifyRequest, ctx: VerifyContext): VerifyResult;
}
