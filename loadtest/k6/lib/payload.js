// @ts-check
/**
 * Deep-link event bodies of a given size, shared by the k6 script and the local driver (which
 * imports this file through payload.d.ts). Plain ES2020 with no imports, so k6's runtime and Node
 * both run it as it is. Every body carries `lt.seq`, a number unique within a run, so the driver
 * can count warehouse rows per event independently of the event key.
 */

/** @typedef {{ type: string, weight: number, bytes: number }} MixEntry */

/**
 * A small seeded PRNG (mulberry32): the same seed gives the same run, in k6 and in Node.
 * @param {number} seed
 * @returns {() => number} uniform in [0, 1)
 */
export function prng(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Weighted choice from the event mix.
 * @param {readonly MixEntry[]} mix
 * @param {number} r uniform in [0, 1)
 * @returns {MixEntry}
 */
export function pickType(mix, r) {
  let total = 0;
  for (const entry of mix) total += entry.weight;
  let at = r * total;
  for (const entry of mix) {
    at -= entry.weight;
    if (at < 0) return entry;
  }
  return /** @type {MixEntry} */ (mix[mix.length - 1]);
}

const PLATFORMS = ["ios", "android", "web"];
const CAMPAIGNS = ["spring-sale", "onboarding", "referral-push", "newsletter-42"];

/**
 * The payload fields each known type needs (see packages/schema): referrals need a referral_code.
 * @param {string} type
 * @param {string} id
 * @param {number} seq
 * @returns {Record<string, unknown>}
 */
function dataFor(type, id, seq) {
  const platform = PLATFORMS[seq % PLATFORMS.length];
  const campaign = CAMPAIGNS[seq % CAMPAIGNS.length];
  const link = `lnk_${((seq * 2654435761) >>> 0).toString(36)}`;
  switch (type) {
    case "link.clicked":
      return {
        link_id: link,
        url: `https://app.example.com/p/${seq % 997}`,
        campaign,
        channel: "email",
        referrer: "https://mail.example.com/",
        platform,
        device_type: "mobile",
        ip_country: "DE",
      };
    case "link.opened":
      return {
        link_id: link,
        route: "/product/:id",
        route_params: { id: String(seq % 997) },
        platform,
        app_version: "4.12.0",
        is_deferred: false,
      };
    case "link.deferred_install":
      return {
        link_id: link,
        original_click_at: "2026-11-29T10:00:00.000Z",
        platform,
        campaign,
        match_method: "fingerprint",
        match_confidence: 0.87,
      };
    case "deferred_link.claimed":
      return {
        link_id: link,
        original_click_at: "2026-11-29T10:00:00.000Z",
        platform,
        campaign,
        match_method: "clipboard",
        app_version: "4.12.0",
      };
    case "install.tracked":
      return { link_id: link, platform, campaign, channel: "paid-social", app_version: "4.12.0" };
    case "referral.created":
      return { referral_code: `REF-${id}`, referrer_id: `usr_${seq % 5000}`, link_id: link };
    case "referral.completed":
      return { referral_code: `REF-${id}`, referrer_id: `usr_${seq % 5000}`, referred_user_id: `usr_${seq}` };
    case "link.conversion":
      return {
        link_id: link,
        user_id: `usr_${seq}`,
        campaign,
        channel: "email",
        revenue: (seq % 10000) / 100,
        platform,
        currency: "EUR",
      };
    default:
      return { link_id: link };
  }
}

/**
 * One event in the deep-link webhook envelope, padded to about `bytes` bytes (at least its natural size).
 * @param {{ type: string, id: string, seq: number, run: string, bytes: number, now: Date }} input
 * @returns {string}
 */
export function makeEvent(input) {
  /** @type {Record<string, unknown>} */
  const data = dataFor(input.type, input.id, input.seq);
  data.lt = { run: input.run, seq: input.seq };
  const event = { event: input.type, event_id: input.id, timestamp: input.now.toISOString(), data };
  const plain = JSON.stringify(event);
  const missing = input.bytes - plain.length - ',"user_agent":""'.length;
  if (missing <= 0) return plain;
  // A realistic filler: user agents and free-form attribution make up most of a real event's size.
  const ua =
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 ";
  let filler = "";
  while (filler.length < missing) filler += ua;
  data.user_agent = filler.slice(0, missing);
  return JSON.stringify(event);
}
