import { defineErrors } from "@tributary/errors";
import { headers as createHeaders, type MsgHdrs } from "@nats-io/nats-core";
import { JetStreamApiError, type JetStreamClient } from "@nats-io/jetstream";
import { EventHeader } from "./names.js";

export interface EventMessage {
  subject: string;
  /** The raw request body, verbatim (for replay and audit). */
  body: Uint8Array;
  eventKey: string;
  source: string;
  region: string;
  eventType: string;
  receivedAt: Date;
  /** The id of the source secret that verified it (`Tributary-Secret-Id`), when one did. */
  secretId?: string;
  /** Extra headers, e.g. `traceparent`. */
  extraHeaders?: Record<string, string>;
}

export interface PublishReceipt {
  stream: string;
  seq: number;
  duplicate: boolean;
}

export const DEFAULT_PUBLISH_TIMEOUT_MS = 5_000;

/** Why the regional stream could not take an event; each maps to one HTTP answer at the edge. */
export const PUBLISH_ERRORS = {
  buffer_full: {
    meaning: "The stream is at its byte or message limit and discards new messages: nothing was stored.",
    fix: "Retry later; the loader or the hub link is behind. Raise the stream's limits if it happens in normal traffic.",
  },
  buffer_unavailable: {
    meaning: "The stream did not acknowledge in time (no responders, a timeout, a leader election): it may be stored.",
    fix: "Retry with the same event key: a stored event answers as a duplicate, never a second event.",
  },
  stream_not_found: {
    meaning: "The regional stream does not exist on the server.",
    fix: "Provision the streams (`tributary` provisioning, or the Helm chart's job) before starting gateways.",
  },
  message_too_large: {
    meaning:
      "The event with its headers is larger than the server's max_payload or the stream's max_msg_size: nothing was stored, and a retry never will be.",
    fix: "Send a smaller event; keep each source's maxBodyBytes below what the server and the stream take.",
  },
} as const;
export type PublishFailureCode = keyof typeof PUBLISH_ERRORS;

export class PublishError extends defineErrors("PublishError", PUBLISH_ERRORS) {}

export function isPublishError(err: unknown): err is PublishError {
  return err instanceof PublishError;
}

/** JetStream API error codes (nats-server errors.json) the publish path tells apart. */
export const JetStreamErrorCode = {
  /** "maximum messages/bytes exceeded": a `discard: new` stream at its limits. */
  StreamStoreFailed: 10077,
  StreamNotFound: 10059,
  /** "message size exceeds maximum allowed": the stream's max_msg_size. */
  StreamMessageExceedsMaximum: 10054,
} as const;

const FULL_MESSAGE = /maximum (bytes|messages|messages per subject) exceeded/i;

/**
 * The PublishError for a JetStream API error in a PubAck (`err_code`, `description`): one
 * classification for every publish path (js.publish here, the gateway's pipelined publisher).
 *
 * Messages are fixed text: they reach webhook senders on the internet, and the server's
 * description names streams, subjects and limits. The description stays on the error as its
 * `cause`, for whoever logs it.
 */
export function pubAckFailure(errCode: number | undefined, description: string, options?: ErrorOptions): PublishError {
  const withDescription = { ...options, cause: options?.cause ?? new Error(description) };
  if (errCode === JetStreamErrorCode.StreamStoreFailed || FULL_MESSAGE.test(description)) {
    return new PublishError("buffer_full", "the regional stream is full", withDescription);
  }
  if (errCode === JetStreamErrorCode.StreamNotFound) {
    return new PublishError("stream_not_found", "the regional stream does not exist", withDescription);
  }
  if (errCode === JetStreamErrorCode.StreamMessageExceedsMaximum) {
    return new PublishError("message_too_large", "the event is larger than the regional stream takes", withDescription);
  }
  return new PublishError("buffer_unavailable", "the regional stream refused the event", withDescription);
}

function classify(err: unknown): PublishError {
  if (err instanceof JetStreamApiError) return pubAckFailure(err.code, err.message, { cause: err });
  // Timeouts, no responders (server down or JetStream not ready), a closed or draining connection;
  // the client's own text stays in `cause` (fixed text for senders, as above).
  return new PublishError("buffer_unavailable", "the regional stream did not acknowledge", { cause: err });
}

export function eventHeaders(msg: EventMessage): MsgHdrs {
  const h = createHeaders();
  h.set(EventHeader.Source, msg.source);
  h.set(EventHeader.Region, msg.region);
  h.set(EventHeader.ReceivedAt, msg.receivedAt.toISOString());
  h.set(EventHeader.EventType, msg.eventType);
  if (msg.secretId !== undefined) h.set(EventHeader.SecretId, msg.secretId);
  for (const [name, value] of Object.entries(msg.extraHeaders ?? {})) h.set(name, value);
  return h;
}

/**
 * Publishes one event with its key as `Nats-Msg-Id` and resolves only on the stream's PubAck:
 * the gateway's 2xx hangs on this promise. Any failure becomes a PublishError with a code.
 */
export async function publishEvent(
  js: JetStreamClient,
  msg: EventMessage,
  timeoutMs = DEFAULT_PUBLISH_TIMEOUT_MS,
): Promise<PublishReceipt> {
  try {
    const ack = await js.publish(msg.subject, msg.body, {
      msgID: msg.eventKey,
      headers: eventHeaders(msg),
      timeout: timeoutMs,
    });
    return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
  } catch (err) {
    throw classify(err);
  }
}
