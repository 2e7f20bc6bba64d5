import { Type, type Static, type TObject } from "@sinclair/typebox";
import { SourceSettingsSchema, type StoredSecret, type SubscriptionState } from "@tributary/control";

export { secretPlace } from "@tributary/control";
export type { SourceRecord, StoredSecret } from "@tributary/control";
import { DestinationSchema } from "@tributary/delivery";

/**
 * The resources as stored in the control bucket and as the API shows them. A stored record holds
 * secrets sealed (`SealingKeys`); a view holds their ids and dates only, never a value.
 */

const Id = Type.String({ pattern: "^[a-z][a-z0-9_-]{0,31}$", description: "lower-case id" });
const SecretId = Type.String({ pattern: "^[A-Za-z0-9_.-]{1,64}$", description: "the secret's name" });

export const SecretView = Type.Object({
  id: Type.String(),
  createdAt: Type.String(),
  expiresAt: Type.Optional(Type.String()),
  lastUsedAt: Type.Optional(
    Type.String({
      description:
        "a source secret's last use: when a gateway received the newest event verified with it that the hub has seen (absent: none seen since it was added); updated every 15 s or so",
    }),
  ),
});

// ---- sources ----

export const SourceSecretInput = Type.Object(
  {
    id: SecretId,
    value: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 4096,
        description: "the secret's text as the sender shows it; absent: the server makes one and returns it once",
      }),
    ),
    encoding: Type.Optional(Type.Union([Type.Literal("utf8"), Type.Literal("base64"), Type.Literal("hex")])),
  },
  { additionalProperties: false },
);

export const SourceCreate = Type.Composite(
  [
    Type.Object({ id: Id }),
    SourceSettingsSchema,
    Type.Object({ secrets: Type.Optional(Type.Array(SourceSecretInput, { minItems: 1, maxItems: 8 })) }),
  ],
  { additionalProperties: false },
);
export type SourceCreate = Static<typeof SourceCreate>;

/**
 * A schema for a partial change: the same fields, none required, no defaults (the validator fills
 * defaults in, so a change that kept them would reset every field it does not name), and `null`
 * accepted for each optional field, which removes it (`{"filter": null}`).
 */
function changeOf<T extends TObject>(schema: T, required: readonly string[]): T {
  const strip = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(strip);
    if (node === null || typeof node !== "object") return node;
    const copy: Record<string | symbol, unknown> = {};
    for (const key of Reflect.ownKeys(node)) {
      if (key === "default") continue;
      copy[key] = strip((node as Record<string | symbol, unknown>)[key]);
    }
    return copy;
  };
  const stripped = strip(schema) as T;
  const properties = Object.fromEntries(
    Object.entries(stripped.properties).map(([name, property]) => [
      name,
      Type.Optional(required.includes(name) ? property : Type.Union([property, Type.Null()])),
    ]),
  );
  return Type.Object(properties, { additionalProperties: false }) as unknown as T;
}

/** The change with its `null` fields removed from `current`, the others replacing them. */
export function applyChange<T extends object>(current: T, change: Record<string, unknown>): T {
  const next = { ...current } as Record<string, unknown>;
  for (const [name, value] of Object.entries(change)) {
    if (value === null) delete next[name];
    else if (value !== undefined) next[name] = value;
  }
  return next as T;
}

/** The settings every record keeps (a change may replace them, never remove them). */
const SOURCE_REQUIRED = ["scheme", "toleranceSeconds", "strict", "maxBodyBytes"];
const SUBSCRIPTION_REQUIRED = [
  "url",
  "allowPrivate",
  "sources",
  "types",
  "headers",
  "timeoutMs",
  "maxInFlight",
  "retry",
  "breaker",
  "sandbox",
  "start",
];

/** A change to a source's settings: the fields given replace the current ones (secrets have routes of their own). */
export const SourceUpdate = changeOf(Type.Partial(SourceSettingsSchema), SOURCE_REQUIRED);
export type SourceUpdate = Static<typeof SourceUpdate>;

export const SourceView = Type.Composite([
  Type.Object({ id: Type.String(), revision: Type.Integer() }),
  Type.Omit(SourceSettingsSchema, []),
  Type.Object({
    secrets: Type.Array(SecretView),
    createdAt: Type.String(),
    updatedAt: Type.String(),
    managedBy: Type.String(),
  }),
]);

// ---- subscriptions ----

const DestinationSettings = Type.Omit(DestinationSchema, ["name", "signing", "secretHeaders"]);

export const SubscriptionCreate = Type.Composite(
  [
    Type.Object({ id: Id }),
    DestinationSettings,
    Type.Object({
      paused: Type.Optional(Type.Boolean({ default: false })),
      description: Type.Optional(Type.String({ maxLength: 500 })),
    }),
  ],
  { additionalProperties: false },
);
export type SubscriptionCreate = Static<typeof SubscriptionCreate>;

export const SubscriptionUpdate = changeOf(
  Type.Partial(Type.Composite([DestinationSettings, Type.Object({ description: Type.String({ maxLength: 500 }) })])),
  SUBSCRIPTION_REQUIRED,
);
export type SubscriptionUpdate = Static<typeof SubscriptionUpdate>;

export type SubscriptionSettings = Static<typeof DestinationSettings>;
/** A subscription as the control bucket holds it: delivery settings and its state (@tributary/control). */
export interface SubscriptionRecord extends SubscriptionSettings, SubscriptionState {}

export const SubscriptionView = Type.Composite([
  Type.Object({ id: Type.String(), revision: Type.Integer() }),
  DestinationSettings,
  Type.Object({
    description: Type.Optional(Type.String()),
    paused: Type.Boolean(),
    pausedReason: Type.Optional(Type.String()),
    pausedAt: Type.Optional(Type.String()),
    signingSecrets: Type.Array(SecretView),
    createdAt: Type.String(),
    updatedAt: Type.String(),
    managedBy: Type.String(),
  }),
]);

/** A secret as the API shows it, with its last use when known. */
export function secretView(secret: StoredSecret, lastUsedAt?: string): Static<typeof SecretView> {
  return {
    id: secret.id,
    createdAt: secret.createdAt,
    ...(secret.expiresAt ? { expiresAt: secret.expiresAt } : {}),
    ...(lastUsedAt ? { lastUsedAt } : {}),
  };
}
