import type {} from "@fastify/swagger";
import { Type, type Static } from "@sinclair/typebox";
import type { JetStreamManager } from "@nats-io/jetstream";
import type { FastifyInstance } from "fastify";
import { OWN_AUTH } from "@tributary/runtime";
import { ConfigError } from "@tributary/errors";
import { DEFAULT_SANDBOX, eventFromMessage, Sandbox, withEnrichment } from "@tributary/delivery";
import { locateEvent, type EventLocation } from "./delivery-ops.js";
import { ManagementError } from "./errors.js";
import { mayRead, readableSources, withHub } from "./hub.js";
import { requireScope } from "./scopes.js";

export interface PreviewDeps {
  nats: () => { jsm: JetStreamManager };
  /** Where the warehouse says an event is (by key). */
  findEvent?: (key: string) => Promise<EventLocation | undefined>;
  /** The newest event in the warehouse among these sources (undefined: every source). */
  newestEvent?: (sources: readonly string[] | undefined) => Promise<EventLocation | undefined>;
}

/** Longest filter and transform a preview takes (a subscription's own have no other bound than the record's). */
const MAX_CODE = 65_536;

const PreviewBody = Type.Object(
  {
    filter: Type.Optional(Type.String({ maxLength: MAX_CODE, description: "a JSONata filter, as a subscription's" })),
    transform: Type.Optional(
      Type.String({ maxLength: MAX_CODE, description: "JavaScript defining function transform(event)" }),
    ),
    enriched: Type.Optional(
      Type.Boolean({ description: "the body with its `enrichment` member, as `enriched` sends it" }),
    ),
    eventKey: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 512,
        description: "the event to run them on; absent: the newest in the warehouse",
      }),
    ),
  },
  { additionalProperties: false },
);
type PreviewBody = Static<typeof PreviewBody>;

const PreviewAnswer = Type.Object({
  event: Type.Object({ key: Type.String(), source: Type.String(), type: Type.String() }),
  matches: Type.Boolean({
    description: "whether the event would be sent: the filter takes it and the transform does not return null",
  }),
  output: Type.Union([Type.String(), Type.Null()], {
    description:
      "the body the endpoint would be sent (the transform's JSON, or the event's); null when nothing is sent",
  }),
  failure: Type.Optional(
    Type.Object(
      { code: Type.String(), detail: Type.String() },
      { description: "the filter or transform failed on this event (it would be dead-lettered)" },
    ),
  ),
});

/** A refusal naming the body's field it is about. */
const FieldErrorReply = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String(), field: Type.Optional(Type.String()) }),
});

/** The preview's config field ("preview.filter") as the body's field name. */
function fieldOf(err: ConfigError): "filter" | "transform" {
  return err.field.endsWith(".transform") ? "transform" : "filter";
}

async function previewEvent(deps: PreviewDeps, key: string | undefined, sources: readonly string[] | undefined) {
  let location: EventLocation | undefined;
  if (key !== undefined) {
    location = await deps.findEvent?.(key);
    if (location && !mayRead(sources, location.source)) location = undefined;
    if (!location)
      throw new ManagementError("event_not_found", `no event ${key} in the warehouse`, { field: "eventKey" });
  } else {
    location = await deps.newestEvent?.(sources);
    if (!location) throw new ManagementError("event_not_found", "no event in the warehouse to preview with yet");
  }
  const stored = await withHub(locateEvent(deps.nats().jsm, location));
  const event = eventFromMessage(stored.header, stored.data);
  if (!event)
    throw new ManagementError("event_not_found", `event ${location.key} cannot be read back from the hub stream`);
  return event;
}

/**
 * `POST /v1/subscriptions/preview`: a filter and a transform, compiled by the delivery package's
 * own sandbox (the worker, CPU and memory limits a deliverer uses) and run on a real event from
 * the hub stream, as a subscription's deliverer would run them. A filter or transform that does
 * not compile is `invalid_resource` with its `field` and the position in the message; one that
 * fails on this event answers 200 with the failure the event would be dead-lettered with.
 */
export function registerPreviewRoute(app: FastifyInstance, deps: PreviewDeps): void {
  let previews: Promise<unknown> = Promise.resolve();
  app.post<{ Body: PreviewBody }>(
    "/v1/subscriptions/preview",
    {
      config: { ...OWN_AUTH },
      schema: {
        tags: ["subscriptions"],
        summary: "Run a filter and a transform on a recent event, as a subscription would",
        body: PreviewBody,
        response: { 200: PreviewAnswer, 400: FieldErrorReply, 404: FieldErrorReply },
      },
    },
    async (request) => {
      requireScope(request, "write");
      // One preview at a time per process: each starts a sandbox worker, and typing sends many.
      const turn = previews.then(() => runPreview(deps, request.body, readableSources(request)));
      previews = turn.catch(() => undefined);
      return turn;
    },
  );
}

async function runPreview(deps: PreviewDeps, body: PreviewBody, sources: readonly string[] | undefined) {
  const { filter, transform, enriched, eventKey } = body;
  let sandbox: Sandbox | undefined;
  try {
    sandbox =
      filter || transform
        ? await Sandbox.create({
            field: "preview",
            ...(filter ? { filter } : {}),
            ...(transform ? { transform } : {}),
            filterCpuMs: DEFAULT_SANDBOX.filterTimeoutMs,
            transformCpuMs: DEFAULT_SANDBOX.timeoutMs,
            memoryBytes: DEFAULT_SANDBOX.memoryBytes,
          })
        : undefined;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const field = fieldOf(err);
    throw new ManagementError("invalid_resource", `${field}: ${err.problem}`, { field });
  }
  try {
    const event = await previewEvent(deps, eventKey, sources);
    const shown = enriched ? { ...event, body: withEnrichment(event) } : event;
    const about = { key: event.key, source: event.source, type: event.type };
    const original = Buffer.from(shown.body).toString("utf8");
    if (!sandbox) return { event: about, matches: true, output: original };
    const outcome = await sandbox.run(shown);
    switch (outcome.kind) {
      case "send":
        return { event: about, matches: true, output: outcome.body ?? original };
      case "skip":
        return { event: about, matches: false, output: null };
      case "unavailable":
        throw new ManagementError("control_unavailable", `the sandbox did not answer: ${outcome.detail}`);
      default:
        return {
          event: about,
          matches: false,
          output: null,
          failure: { code: outcome.code, detail: outcome.detail },
        };
    }
  } finally {
    await sandbox?.close();
  }
}
