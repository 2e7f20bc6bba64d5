import { Type, type Static, type TSchema } from "@sinclair/typebox";
import { DATE_TIME_MESSAGE } from "./envelope.js";

// Payload (`data`) schemas for the known event types. Providers add fields freely, so every object
// is open (additionalProperties: true) and only the few fields without which the event means
// nothing are required. Widening an enumeration or loosening a field is a safe change; tightening
// one turns yesterday's accepted events into 4xx, so do it only with a new schema_version.

const open = { additionalProperties: true } as const;
const Text = Type.Optional(Type.String());
const Flag = Type.Optional(Type.Boolean());
const Num = Type.Optional(Type.Number());
const DateTime = Type.Optional(Type.String({ format: "date-time", errorMessage: DATE_TIME_MESSAGE }));
const Params = Type.Optional(Type.Object({}, { ...open, errorMessage: "must be an object" }));
/** Ids of users and referrers: senders pass them through, type unstated. */
const Id = Type.Optional(
  Type.Union([Type.String({ minLength: 1 }), Type.Integer()], {
    errorMessage: "must be a non-empty string or an integer",
  }),
);

/**
 * A field whose usual values the senders document. Kept as any string on purpose: a provider that
 * sends "iOS" or a new platform must not have its events refused at the edge (a 4xx is never
 * retried usefully); the known values are documented for queries and enrichment to normalise.
 */
function usually<const T extends readonly string[]>(values: T) {
  return Type.Optional(Type.String({ description: `usually one of ${values.join(", ")}` }));
}

// Enumerations the senders document (docs/providers.md). Platform: "(iOS or Android)", payloads send "ios".
const Platform = usually(["ios", "android", "web", "other", "unknown"]);
// Click-tracking events' device types.
const DeviceType = usually(["mobile", "desktop", "tablet", "bot", "unknown"]);
const ReferrerCategory = usually(["search", "social", "email", "direct", "unknown"]);
const RedirectStatus = usually(["success", "blocked", "error"]);

/** Campaign attribution as deep-link webhooks send it on links, clicks and installs. */
const attribution = { campaign: Text, channel: Text };

// link.clicked: deep-link webhooks (link_id/url/referrer/geo) and deferred-link webhooks (prefix/token/hostname/ip/device_type).
const LinkClicked = Type.Object(
  {
    link_id: Text,
    url: Text,
    ...attribution,
    referrer: Text,
    user_agent: Text,
    ip_country: Text,
    ip_region: Text,
    platform: Platform,
    prefix: Text,
    token: Text,
    hostname: Text,
    ip: Text,
    device_type: DeviceType,
    params: Params,
  },
  open,
);

// link.opened: deep-link webhooks' app-open event.
const LinkOpened = Type.Object(
  { link_id: Text, route: Text, route_params: Params, platform: Platform, app_version: Text, is_deferred: Flag },
  open,
);

// link.deferred_install: deep-link webhooks' deferred-install event.
const LinkDeferredInstall = Type.Object(
  {
    link_id: Text,
    original_click_at: DateTime,
    platform: Platform,
    ...attribution,
    match_method: Text,
    match_confidence: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  },
  open,
);

// deferred_link.claimed: deferred-link webhooks name it ("the app claimed a deferred deep link after install")
// without a payload; typed with the deferred-install fields it shares.
const DeferredLinkClaimed = Type.Object(
  {
    link_id: Text,
    original_click_at: DateTime,
    platform: Platform,
    ...attribution,
    match_method: Text,
    app_version: Text,
  },
  open,
);

// install.tracked: deferred-link webhooks (the handler reads platform and campaign); routed to onboarding.
const InstallTracked = Type.Object({ link_id: Text, platform: Platform, ...attribution, app_version: Text }, open);

// referral.created: deferred-link webhooks ("a new referral link was generated", referrer_token);
// the code is what the referral is.
const ReferralCreated = Type.Object(
  { referral_code: Type.String({ minLength: 1 }), referrer_id: Id, referrer_token: Text, link_id: Text },
  open,
);

// referral.completed: the deferred-link handler issues the reward from referral_code, referrer_id, referred_user_id.
const ReferralCompleted = Type.Object(
  { referral_code: Type.String({ minLength: 1 }), referrer_id: Id, referred_user_id: Id, referrer_token: Text },
  open,
);

// link.conversion: the deep-link webhooks' CRM handler (user_id, campaign, channel, revenue).
const LinkConversion = Type.Object(
  { link_id: Text, user_id: Id, ...attribution, revenue: Num, platform: Platform },
  open,
);

// Click fields of click-tracking events: request context and classification. The nested layout puts them in
// data.click, beside data.link and an optional data.campaign object, so both layouts are typed.
const clickFields = {
  ip_hash: Text,
  user_agent_family: Text,
  device_type: DeviceType,
  os_family: Text,
  country: Text,
  region: Text,
  city: Text,
  referrer_category: ReferrerCategory,
  language: Text,
  is_unique: Flag,
  bot_score: Num,
  is_suspicious: Flag,
  fraud_reason: Text,
  redirect_status: RedirectStatus,
  block_reason: Text,
};
const clickLayout = {
  link_id: Text,
  workspace_id: Text,
  alias: Text,
  domain_id: Text,
  campaign_id: Text,
  channel: Text,
  tags: Type.Optional(Type.Array(Type.String())),
  destination_id: Text,
  ...clickFields,
  link: Type.Optional(Type.Object({ id: Text, alias: Text }, open)),
  click: Type.Optional(Type.Object(clickFields, open)),
  campaign: Type.Optional(
    Type.Union([Type.String(), Type.Object({}, open)], { errorMessage: "must be a string or an object" }),
  ),
};

// click.created: click-tracking events, flat or nested.
const ClickCreated = Type.Object(clickLayout, open);

// click.flagged: click-tracking events' "suspicious/fraud verdict". The verdict is its point, so one
// of the classification fields must be present, flat or under data.click.
const verdictFields = ["fraud_reason", "is_suspicious", "bot_score"] as const;
const hasVerdict = verdictFields.map((field) => ({ required: [field] }));
const ClickFlagged = Type.Object(clickLayout, {
  ...open,
  allOf: [
    {
      anyOf: [...hasVerdict, { required: ["click"], properties: { click: { type: "object", anyOf: hasVerdict } } }],
      errorMessage: `must carry the verdict: one of ${verdictFields.join(", ")} (in data or data.click)`,
    },
  ],
});

/** The payload schema of each known event type, keyed by the type. */
export const EVENT_DATA_SCHEMAS = {
  "link.clicked": LinkClicked,
  "link.opened": LinkOpened,
  "link.deferred_install": LinkDeferredInstall,
  "deferred_link.claimed": DeferredLinkClaimed,
  "install.tracked": InstallTracked,
  "referral.created": ReferralCreated,
  "referral.completed": ReferralCompleted,
  "link.conversion": LinkConversion,
  "click.created": ClickCreated,
  "click.flagged": ClickFlagged,
} as const satisfies Record<string, TSchema>;

export type KnownEventType = keyof typeof EVENT_DATA_SCHEMAS;
/** The TypeScript shape of `data` for each known type (fields beyond these may be present). */
export type KnownEventData = { [K in KnownEventType]: Static<(typeof EVENT_DATA_SCHEMAS)[K]> };

export const KNOWN_EVENT_TYPES: readonly KnownEventType[] = Object.freeze(
  Object.keys(EVENT_DATA_SCHEMAS) as KnownEventType[],
);

export function isKnownEventType(type: string): type is KnownEventType {
  return Object.hasOwn(EVENT_DATA_SCHEMAS, type);
}
