import { Type } from "@sinclair/typebox";
import { headerRecord } from "@tributary/streams";
import { ManagementError } from "./errors.js";

/**
 * What both DLQs' routes share: the paging query, the replay body and its check, the parts of an
 * entry's answer (headers, body as text).
 */

/** The largest corrected body a replay takes, in bytes (the hub's messages are 1 MiB at most, headers included). */
export const MAX_REPLAY_BODY_BYTES = 1024 * 1024 - 64 * 1024;

/** Entries one list answer holds at most. */
export const MAX_DLQ_PAGE = 500;

export const DlqPageQuery = Type.Object(
  {
    fromSeq: Type.Integer({ minimum: 1, default: 1, description: "the first sequence to look at: a page's nextSeq" }),
    limit: Type.Integer({ minimum: 1, maximum: MAX_DLQ_PAGE, default: 50 }),
  },
  { additionalProperties: false },
);
export interface DlqPage {
  fromSeq: number;
  limit: number;
}

/** A refusal, with the field at fault when there is one (a 400's `body`). */
export const Refusal = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String(), field: Type.Optional(Type.String()) }),
});

export const NextSeq = Type.Union([Type.Integer(), Type.Null()], {
  description: "where the next page starts (fromSeq); null at the end",
});

export const ReplayBody = Type.Object(
  {
    body: Type.Optional(
      Type.String({
        maxLength: MAX_REPLAY_BODY_BYTES,
        description: "a corrected event (a JSON object, as text) sent instead of the entry's own bytes",
      }),
    ),
  },
  { additionalProperties: false },
);

export const Replayed = Type.Object({
  seq: Type.Integer({ description: "the entry replayed (now gone from the DLQ)" }),
  eventKey: Type.String(),
  corrected: Type.Boolean({ description: "whether a corrected body was sent instead of the entry's own" }),
  replayedTo: Type.Object({ stream: Type.String(), seq: Type.Integer() }),
});

export const EntryContent = {
  headers: Type.Record(Type.String(), Type.Array(Type.String()), {
    description: "the event's headers as the DLQ keeps them (its key in Tributary-Original-Msg-Id)",
  }),
  body: Type.Union([Type.String(), Type.Null()], {
    description:
      "the event's bytes as UTF-8 text; null when the entry keeps a reference whose origin no longer has them",
  }),
};

/** The headers and the body text of an entry's answer. */
export function entryContent(
  headers: Iterable<[string, string[]]>,
  body: Uint8Array | undefined,
): { headers: Record<string, string[]>; body: string | null } {
  return { headers: headerRecord(headers), body: body === undefined ? null : new TextDecoder().decode(body) };
}

/**
 * A replay's corrected body, checked before anything is changed: a JSON object (what the loader
 * and the deliverer take) of 1 MiB at most. Undefined when none was given (the entry's own bytes).
 */
export function correctedBody(text: string | undefined): Uint8Array | undefined {
  if (text === undefined) return undefined;
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length > MAX_REPLAY_BODY_BYTES)
    throw new ManagementError("invalid_replay_body", `body: ${bytes.length} bytes, at most ${MAX_REPLAY_BODY_BYTES}`, {
      field: "body",
    });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ManagementError("invalid_replay_body", `body: not JSON (${(err as Error).message})`, { field: "body" });
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
    throw new ManagementError("invalid_replay_body", "body: a JSON object is needed (an event)", { field: "body" });
  return bytes;
}
