import type { EnrichedFields } from "@tributary/schema";

/**
 * Bodies shaped like the documented payloads of the senders Tributary takes (deep-link platforms'
 * click, open, install and conversion webhooks; click-tracking APIs' nested click events), each
 * with the enriched columns its own fields must give.
 */
export const SENDER_EXAMPLES: Array<{
  name: string;
  event: string;
  data: Record<string, unknown>;
  expected: Partial<EnrichedFields>;
}> = [
  {
    name: "deep-link click with the sender's geo and no IP",
    event: "link.clicked",
    data: {
      link_id: "lnk_8xKp2mVq",
      url: "https://app.example.com/product/42",
      campaign: "spring-sale",
      channel: "email",
      referrer: "https://mail.google.com/",
      user_agent: "Mozilla/5.0 (iPhone; CPU iPhone OS 19_3 like Mac OS X)",
      ip_country: "US",
      ip_region: "CA",
      platform: "ios",
    },
    expected: {
      link_id: "lnk_8xKp2mVq",
      geo_country: "US",
      geo_region: "US-CA",
      device_type: "mobile",
      platform: "ios",
      channel: "email",
      referrer_category: "email",
    },
  },
  {
    name: "setup-guide click with an IP, platform and device type",
    event: "link.clicked",
    data: {
      prefix: "promo",
      token: "summer-sale",
      hostname: "links.yourapp.com",
      ip: "8.8.8.8",
      platform: "ios",
      device_type: "mobile",
      campaign: "summer2026",
      channel: "paid_social",
    },
    expected: { geo_country: "US", device_type: "mobile", platform: "ios", channel: "paid_social", ip_anon: "8.8.8.0" },
  },
  {
    name: "click-tracking click.created, nested",
    event: "click.created",
    data: {
      link: { id: "lnk_1" },
      click: {
        ip: "81.2.69.142",
        user_agent:
          "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36",
        country: "GB",
        device_type: "mobile",
        referrer_category: "social",
        channel: "social",
      },
    },
    expected: { link_id: "lnk_1", geo_country: "GB", device_type: "mobile", platform: "android", channel: "social" },
  },
  {
    name: "deferred install",
    event: "link.deferred_install",
    data: {
      link_id: "lnk_8xKp2mVq",
      original_click_at: "2026-03-04T14:32:08.441Z",
      platform: "android",
      campaign: "spring-sale",
      channel: "email",
      country: "FR",
      device_type: "phone",
    },
    expected: { geo_country: "FR", device_type: "mobile", platform: "android", channel: "email" },
  },
  {
    name: "conversion with revenue",
    event: "link.conversion",
    data: {
      link_id: "lnk_8xKp2mVq",
      user_id: "u_42",
      campaign: "spring-sale",
      channel: "email",
      revenue: 129.5,
      currency: "eur",
      platform: "web",
      ip_country: "DE",
      device_type: "desktop",
    },
    expected: { revenue: "129.5", currency: "EUR", platform: "web", geo_country: "DE", device_type: "desktop" },
  },
];
