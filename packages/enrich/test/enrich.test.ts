import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ENRICHED_COLUMNS, type WarehouseRow } from "@tributary/schema";
import {
  cachedAgentClassifier,
  campaignFile,
  campaignMap,
  categorizeReferrer,
  classifyAgent,
  createEnricher,
  enricherFromPortable,
  EnrichError,
  openGeoDatabase,
  truncateIp,
  RotatingHasher,
} from "../src/index.js";

import { SENDER_EXAMPLES } from "./sender-examples.js";

const geo = openGeoDatabase();

const UA = {
  chromeWindows:
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  safariIphone:
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
  chromeAndroid:
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36",
  safariIpad:
    "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
  firefoxMac: "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:133.0) Gecko/20100101 Firefox/133.0",
  googlebot: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
  bingbot: "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
  curl: "curl/8.5.0",
  slack: "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
  facebook: "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
  twitter: "Twitterbot/1.0",
  whatsapp: "WhatsApp/2.23.20.0",
  telegram: "TelegramBot (like TwitterBot)",
  discord: "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
  chromeIphone:
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
  firefoxIphone:
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/132.0 Mobile/15E148 Safari/605.1.15",
  firefoxAndroid: "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0",
  chromeAndroidTablet:
    "Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  samsungInternet:
    "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
  facebookAndroid:
    "Mozilla/5.0 (Linux; Android 14; SM-G991B Build/UP1A.231005.007; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/131.0.6778.81 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/489.0.0.66.81;]",
  instagramIphone:
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 356.0.0.25.109 (iPhone15,3; iOS 17_6; en_US; en; scale=3.00; 1290x2796; 652133128)",
  edgeWindows:
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
  safariMac:
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
  chromebook:
    "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  firefoxUbuntu: "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
  tizenTv:
    "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 Chrome/76.0.3809.146 TV Safari/537.36",
  xbox: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox One) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edge/44.18363.8131",
  quest:
    "Mozilla/5.0 (Linux; U; Android 13; en-us; Quest 3) AppleWebKit/537.36 (KHTML, like Gecko) OculusBrowser/35.0 SamsungBrowser/4.0 Chrome/128.0.6613.88 VR Safari/537.36",
  galaxyWatch:
    "Mozilla/5.0 (Linux; Android 11; SM-R890) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/102.0.5005.125 Mobile Safari/537.36",
};

function row(over: Partial<WarehouseRow> = {}): WarehouseRow {
  return {
    event_key: `demo:${Math.random()}`,
    source: "demo",
    event_id: "e",
    event_type: "link.clicked",
    schema_version: null,
    occurred_at: new Date("2026-11-29T12:00:00Z"),
    received_at: new Date("2026-11-29T12:00:01Z"),
    region: "us",
    region_seq: 1,
    payload: "{}",
    ...over,
  };
}

function click(data: Record<string, unknown>): { body: unknown; text: string } {
  const body = { event: "link.clicked", timestamp: "2026-11-29T12:00:00Z", data };
  return { body, text: JSON.stringify(body) };
}

describe("enrich - geo through the shipped MMDB", () => {
  it.each([
    ["8.8.8.8", "US"],
    ["1.1.1.1", "AU"],
    ["81.2.69.142", "GB"],
    ["2a00:1450:4001:80b::200e", "IE"],
    ["::ffff:8.8.8.8", "US"],
  ])("%s resolves to %s", (ip, country) => {
    const enricher = createEnricher({ geo, ip: { mode: "truncate" } });
    const { body, text } = click({ link_id: "l1", ip, user_agent: UA.chromeWindows });
    expect(enricher.enrich(row({ payload: text }), body).enriched?.geo_country).toBe(country);
  });

  it("private, loopback and malformed addresses resolve to nothing", () => {
    expect(geo.lookup("127.0.0.1").country).toBeNull();
    expect(geo.lookup("10.1.2.3").country).toBeNull();
    expect(geo.lookup("not-an-ip").country).toBeNull();
  });

  it("an unreadable database is a config error naming the file", () => {
    expect(() => openGeoDatabase("/nonexistent/GeoLite2-City.mmdb")).toThrow(/GeoLite2-City.mmdb/);
  });
});

describe("enrich - user agents", () => {
  it.each([
    ["chromeWindows", "desktop", "Windows", "Chrome", null],
    ["safariIphone", "mobile", "iOS", "Mobile Safari", null],
    ["chromeAndroid", "mobile", "Android", "Mobile Chrome", null],
    ["safariIpad", "tablet", "iOS", "Mobile Safari", null],
    ["firefoxMac", "desktop", "macOS", "Firefox", null],
    ["chromeIphone", "mobile", "iOS", "Mobile Chrome", null],
    ["firefoxIphone", "mobile", "iOS", "Mobile Firefox", null],
    ["firefoxAndroid", "mobile", "Android", "Mobile Firefox", null],
    ["chromeAndroidTablet", "tablet", "Android", "Chrome", null],
    ["samsungInternet", "mobile", "Android", "Samsung Internet", null],
    ["facebookAndroid", "mobile", "Android", "Facebook", null],
    ["instagramIphone", "mobile", "iOS", "Instagram", null],
    ["edgeWindows", "desktop", "Windows", "Edge", null],
    ["safariMac", "desktop", "macOS", "Safari", null],
    ["chromebook", "desktop", "Chrome OS", "Chrome", null],
    ["firefoxUbuntu", "desktop", "Ubuntu", "Firefox", null],
    ["tizenTv", "smarttv", "Tizen", "Samsung Internet", null],
    ["xbox", "console", "Xbox", "Edge", null],
    ["quest", "xr", "Android", "Oculus Browser", null],
    ["galaxyWatch", "wearable", "Android", "Mobile Chrome", null],
  ] as const)("%s is a %s on %s with %s", (name, device, os, browser, kind) => {
    const info = classifyAgent(UA[name]);
    expect(info).toMatchObject({
      device_type: device,
      os_name: os,
      browser_name: browser,
      bot_kind: kind,
      is_bot: false,
    });
  });

  it.each(["googlebot", "bingbot", "curl"] as const)("%s is a bot", (name) => {
    expect(classifyAgent(UA[name])).toMatchObject({ is_bot: true, bot_kind: "bot", device_type: "bot" });
  });

  it.each(["slack", "facebook", "twitter", "whatsapp", "telegram", "discord"] as const)(
    "%s is a link-preview prefetcher",
    (name) => {
      expect(classifyAgent(UA[name])).toMatchObject({ is_bot: true, bot_kind: "prefetcher" });
    },
  );
});

describe("enrich - the user-agent cache", () => {
  it("keeps the recently used: a UA read again outlives newer ones, the least recently used goes first", () => {
    const classify = cachedAgentClassifier(2);
    const windows = classify(UA.chromeWindows);
    const iphone = classify(UA.safariIphone);
    expect(classify(UA.chromeWindows)).toBe(windows); // a hit: now the most recently used
    classify(UA.firefoxMac); // the cache is full: the iPhone UA, least recently used, goes
    expect(classify(UA.chromeWindows)).toBe(windows);
    const iphoneAgain = classify(UA.safariIphone);
    expect(iphoneAgain).not.toBe(iphone);
    expect(iphoneAgain).toEqual(iphone);
  });

  it("gives what the uncached classification gives, and nothing for a missing UA", () => {
    const classify = cachedAgentClassifier();
    for (const ua of Object.values(UA)) expect(classify(ua)).toEqual(classifyAgent(ua));
    expect(classify(null)).toEqual({
      device_type: "unknown",
      os_name: null,
      browser_name: null,
      is_bot: false,
      bot_kind: null,
    });
  });
});

describe("enrich - referrers", () => {
  it.each([
    [null, "direct"],
    ["https://www.google.com/", "search"],
    ["https://duckduckgo.com/?q=x", "search"],
    ["https://t.co/abc", "social"],
    ["https://l.facebook.com/l.php?u=x", "social"],
    ["https://mail.google.com/mail/u/0/", "email"],
    ["https://shop.example.com/cart", "internal"],
    ["https://news.ycombinator.com/", "other"],
    ["not a url", "other"],
  ])("%s is %s", (referrer, category) => {
    expect(categorizeReferrer(referrer, ["example.com"])).toBe(category);
  });
});

describe("enrich - privacy", () => {
  it("truncates IPv4 to /24 and IPv6 to /48", () => {
    expect(truncateIp("203.0.113.77")).toBe("203.0.113.0");
    expect(truncateIp("2001:db8:abcd:12:1:2:3:4")).toBe("2001:db8:abcd::");
    expect(truncateIp("::ffff:198.51.100.9")).toBe("198.51.100.0");
  });

  it("keyed hashes agree within a salt period and differ across periods and keys", () => {
    const a = new RotatingHasher("k".repeat(32), 86_400);
    const b = new RotatingHasher("j".repeat(32), 86_400);
    const day1 = new Date("2026-11-29T01:00:00Z");
    const day1Later = new Date("2026-11-29T23:00:00Z");
    const day2 = new Date("2026-11-30T01:00:00Z");
    expect(a.hash("8.8.8.8", day1)).toBe(a.hash("8.8.8.8", day1Later));
    expect(a.hash("8.8.8.8", day1)).not.toBe(a.hash("8.8.8.8", day2));
    expect(a.hash("8.8.8.8", day1)).not.toBe(b.hash("8.8.8.8", day1));
    expect(a.hash("8.8.8.8", day1)).not.toContain("8.8.8.8");
  });

  it("a short hash key is refused with the fix", () => {
    expect(() => new RotatingHasher("short")).toThrow(/at least 16/);
    expect(() => createEnricher({ geo: null, ip: { mode: "hash" } })).toThrow(EnrichError);
  });

  it.each(["truncate", "hash", "drop"] as const)(
    "no enriched column holds the raw IP or full UA (ip mode %s)",
    (mode) => {
      const enricher = createEnricher({ geo, ip: { mode, hashKey: "a-secret-key-of-32-bytes-length!" } });
      for (const [ip, ua] of [
        ["8.8.8.8", UA.chromeAndroid],
        ["2a00:1450:4001:80b::200e", UA.safariIphone],
        ["81.2.69.142", UA.slack],
      ] as const) {
        const { body, text } = click({ link_id: "l1", ip, user_agent: ua, referrer: "https://t.co/x" });
        const enriched = enricher.enrich(row({ payload: text }), body).enriched!;
        expect(Object.keys(enriched).sort()).toEqual(ENRICHED_COLUMNS.map((c) => c.name).sort());
        for (const value of Object.values(enriched)) {
          if (typeof value !== "string") continue;
          expect(value).not.toContain(ip);
          expect(value).not.toContain(ua);
        }
        if (mode === "drop") expect(enriched.ip_anon).toBeNull();
        else expect(enriched.ip_anon).toMatch(mode === "hash" ? /^h_/ : /[.:]/);
      }
    },
  );

  it("cache - an address seen again gives the same geo and truncation; in hash mode its ip_anon still follows the salt's period", () => {
    const truncating = createEnricher({ geo, ip: { mode: "truncate" }, ipCacheSize: 2 });
    const seen = ["81.2.69.142", "8.8.8.8", "1.1.1.1", "81.2.69.142", "::ffff:81.2.69.142"].map((ip) => {
      const { body, text } = click({ link_id: "l1", ip });
      const e = truncating.enrich(row({ payload: text }), body).enriched!;
      return [e.geo_country, e.ip_anon];
    });
    expect(seen[3]).toEqual(seen[0]); // from the cache
    expect(seen[4]).toEqual(seen[0]); // the mapped form is the same address
    expect(seen[0]).toEqual(["GB", "81.2.69.0"]);

    const hashing = createEnricher({
      geo,
      ip: { mode: "hash", hashKey: "a-secret-key-of-32-bytes-length!", saltRotationSeconds: 60 },
    });
    const anonAt = (iso: string) => {
      const { body, text } = click({ link_id: "l1", ip: "8.8.8.8" });
      const at = new Date(iso);
      return hashing.enrich(row({ payload: text, occurred_at: at, received_at: at }), body).enriched!.ip_anon;
    };
    expect(anonAt("2026-12-01T10:00:05Z")).toBe(anonAt("2026-12-01T10:00:50Z"));
    expect(anonAt("2026-12-01T10:01:05Z")).not.toBe(anonAt("2026-12-01T10:00:05Z"));
  });

  it("redaction drops and hashes the listed paths per source; a raw source's payload and unlisted fields stay verbatim", () => {
    const enricher = createEnricher({
      geo,
      ip: { mode: "truncate", hashKey: "a-secret-key-of-32-bytes-length!" },
      sources: {
        demo: { payload: "raw" },
        tolinku: {
          redact: [
            { path: "data.ip", action: "drop" },
            { path: "data.user_agent", action: "hash" },
            { path: "data.absent.deep", action: "drop" },
          ],
        },
      },
    });
    const { body, text } = click({ link_id: "l1", ip: "8.8.8.8", user_agent: UA.chromeWindows, campaign: "spring" });
    const out = enricher.enrich(row({ source: "tolinku", payload: text }), body);
    const payload = JSON.parse(out.payload) as { data: Record<string, unknown> };
    expect(payload.data.ip).toBeUndefined();
    expect(payload.data.user_agent).toMatch(/^h_/);
    expect(payload.data.campaign).toBe("spring");
    expect(out.payload).not.toContain("8.8.8.8");
    expect(out.payload).not.toContain(UA.chromeWindows);
    // Enrichment still read the inputs before they were redacted.
    expect(out.enriched).toMatchObject({ geo_country: "US", browser_name: "Chrome" });

    const other = click({ link_id: "l1", ip: "8.8.8.8", user_agent: UA.chromeWindows });
    const untouched = enricher.enrich(row({ source: "demo", payload: other.text }), other.body);
    expect(untouched.payload).toBe(other.text);
  });
});

describe("enrich - classification", () => {
  it("is_unique per link per 24 h: the first click of a visitor per link per UTC day; redelivery keeps its verdict", () => {
    const enricher = createEnricher({ geo: null, ip: { mode: "truncate" } });
    const at = (iso: string) => new Date(iso);
    const ev = (key: string, link: string, ip: string, when: string) => {
      const { body, text } = click({ link_id: link, ip, user_agent: UA.safariIphone });
      return enricher.enrich(row({ event_key: key, payload: text, occurred_at: at(when) }), body).enriched!.is_unique;
    };
    expect(ev("k1", "A", "8.8.8.8", "2026-11-29T10:00:00Z")).toBe(true);
    expect(ev("k2", "A", "8.8.8.8", "2026-11-29T11:00:00Z")).toBe(false); // same visitor, link, day
    expect(ev("k1", "A", "8.8.8.8", "2026-11-29T10:00:00Z")).toBe(true); // k1 redelivered
    expect(ev("k3", "B", "8.8.8.8", "2026-11-29T11:00:00Z")).toBe(true); // another link
    expect(ev("k4", "A", "1.1.1.1", "2026-11-29T11:00:00Z")).toBe(true); // another visitor
    expect(ev("k5", "A", "8.8.8.8", "2026-11-30T00:00:01Z")).toBe(true); // next window
  });

  it("is_suspicious names the first matching rule; events without click context are not judged", () => {
    const enricher = createEnricher({
      geo,
      ip: { mode: "truncate" },
      suspicious: [
        { rule: "bot" },
        { rule: "missing_user_agent" },
        { rule: "country_not_allowed", countries: ["US"] },
        { rule: "burst", maxPerMinute: 3 },
      ],
    });
    const judge = (data: Record<string, unknown>, key = `k${Math.random()}`) => {
      const { body, text } = click(data);
      const e = enricher.enrich(row({ event_key: key, payload: text }), body).enriched!;
      return [e.is_suspicious, e.suspicious_reason];
    };
    expect(judge({ link_id: "A", ip: "8.8.8.8", user_agent: UA.googlebot })).toEqual([true, "bot"]);
    expect(judge({ link_id: "A", ip: "8.8.8.8" })).toEqual([true, "missing_user_agent"]);
    expect(judge({ link_id: "A", ip: "1.1.1.1", user_agent: UA.chromeWindows })).toEqual([true, "country_not_allowed"]);
    // burst: the 4th distinct event of one visitor within a minute (the missing-UA event above used another visitor key)
    const burst = [1, 2, 3, 4].map(() => judge({ link_id: "A", ip: "8.8.4.4", user_agent: UA.firefoxMac }));
    expect(burst.map((b) => b[1])).toEqual([null, null, null, "burst"]);
    expect(judge({ link_id: "A" })).toEqual([null, null]);
  });

  it("campaign metadata comes from the lookup; the file is re-read when it changes", () => {
    const dir = mkdtempSync(join(tmpdir(), "enrich-campaigns-"));
    try {
      const path = join(dir, "campaigns.json");
      writeFileSync(path, JSON.stringify({ spring: { name: "Spring sale", channel: "email" } }));
      let now = 0;
      const lookup = campaignFile(path, { recheckMs: 1000, now: () => now });
      expect(lookup.get("spring")).toEqual({ name: "Spring sale", channel: "email" });
      writeFileSync(path, JSON.stringify([{ id: "spring", name: "Spring sale II" }]));
      utimesSync(path, new Date(), new Date(Date.now() + 5000));
      expect(lookup.get("spring")?.name).toBe("Spring sale"); // cached until the recheck interval
      now = 1000;
      expect(lookup.get("spring")?.name).toBe("Spring sale II");
      expect(() => campaignFile(join(dir, "missing.json"))).toThrow(/campaignFile/);

      const enricher = createEnricher({
        geo: null,
        ip: { mode: "truncate" },
        campaigns: campaignMap({ spring: { name: "Spring" } }),
      });
      const { body, text } = click({ link_id: "A", campaign: "spring" });
      expect(enricher.enrich(row({ payload: text }), body).enriched).toMatchObject({
        campaign: "spring",
        campaign_meta: '{"name":"Spring"}',
        link_id: "A",
      });
      const nested = {
        event: "click.created",
        data: { link: { id: "L" }, campaign: { id: "c9" }, click: { ip: "8.8.8.8" } },
      };
      expect(enricher.enrich(row({ payload: JSON.stringify(nested) }), nested).enriched).toMatchObject({
        link_id: "L",
        campaign: "c9",
        ip_anon: "8.8.8.0",
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("enrich - the stage split for worker threads (prepare anywhere, settle in order on one thread)", () => {
  /** A stream with repeats, bursts, bots, missing inputs and minutes, drawn from a fixed seed. */
  function stream(n: number): Array<{ key: string; data: Record<string, unknown>; at: Date }> {
    let s = 7;
    const rand = (k: number) => (s = (s * 1103515245 + 12345) >>> 0) % k;
    const uas = [UA.chromeWindows, UA.safariIphone, UA.googlebot, UA.slack, null];
    const ips = ["8.8.8.8", "1.1.1.1", "2a00:1450:4001::1", "10.0.0.1", "8.8.4.4", null];
    return Array.from({ length: n }, (_, i) => {
      const data: Record<string, unknown> = { link_id: `l${rand(3)}`, campaign: `c${rand(2)}` };
      const ua = uas[rand(uas.length)];
      const ip = ips[rand(ips.length)];
      if (ua !== null) data.user_agent = ua;
      if (ip !== null) data.ip = ip;
      // Redeliveries: some events come again with the same key.
      const key = i > 10 && rand(8) === 0 ? `k${i - 1 - rand(10)}` : `k${i}`;
      return { key, data, at: new Date(Date.UTC(2026, 10, 29, 12, Math.floor(i / 40), i % 60)) };
    });
  }
  const options = {
    geo,
    ip: { mode: "truncate" as const },
    uniqueRule: "per_campaign_24h",
    suspicious: [
      { rule: "burst" as const, maxPerMinute: 4 },
      { rule: "bot" as const },
      { rule: "missing_user_agent" as const },
      { rule: "burst" as const, maxPerMinute: 2 },
      { rule: "country_not_allowed" as const, countries: ["US"] },
    ],
  };

  it("settle after prepare gives what enrich gives, event for event, with the rules' state in the same order", () => {
    const events = stream(600);
    const visitorKey = new Uint8Array(32).fill(3);
    const whole = createEnricher({ ...options, visitorKey });
    const worker = createEnricher({ ...options, visitorKey });
    const settler = createEnricher({ ...options, visitorKey });
    for (const e of events) {
      const { body, text } = click(e.data);
      const r = row({ event_key: e.key, payload: text, occurred_at: e.at });
      const expected = whole.enrich(r, structuredClone(body));
      // prepare on one enricher ("a worker"), settle on another ("the loader's thread"), as the pool does.
      const prepared = worker.prepare(r, structuredClone(body));
      const verdicts = settler.settle(r.event_key, structuredClone(prepared.pending));
      expect({ ...prepared.row, enriched: { ...prepared.row.enriched!, ...verdicts } }).toEqual(expected);
    }
  });

  it("the verdicts are those of a one-pass judge over the rules in order (bursts counted only up to the first stateless match)", () => {
    const enricher = createEnricher({ ...options, geo: null });
    const bursts = new Map<string, Set<string>>();
    const reference = (key: string, visitor: string, botKind: string | null, ua: string | null, at: Date) => {
      for (const r of options.suspicious) {
        if (r.rule === "bot" && botKind === "bot") return "bot";
        if (r.rule === "missing_user_agent" && ua === null) return "missing_user_agent";
        if (r.rule === "burst") {
          const k = `${visitor}/${Math.floor(at.getTime() / 60_000)}`;
          const seen = bursts.get(k) ?? new Set<string>();
          bursts.set(k, seen.add(key));
          if (seen.size > r.maxPerMinute) return "burst";
        }
      }
      return null;
    };
    for (const e of stream(400).filter((e) => typeof e.data.ip === "string")) {
      const { body, text } = click(e.data);
      const ua = (e.data.user_agent as string | undefined) ?? null;
      const got = enricher.enrich(row({ event_key: e.key, payload: text, occurred_at: e.at }), body).enriched!;
      const expected = reference(e.key, `${e.data.ip as string}|${ua}`, got.bot_kind, ua, e.at);
      expect([got.suspicious_reason, e.key]).toEqual([expected, e.key]);
    }
  });

  it("portable - the options rebuild an enricher that prepares the same rows; a lookup only this thread has makes it unportable", () => {
    const enricher = createEnricher({ ...options, campaigns: campaignMap({ c1: { name: "One" } }) });
    const portable = enricher.portable()!;
    expect(portable.geoDatabase).toBe(geo.path);
    const copy = enricherFromPortable(structuredClone(portable));
    for (const e of stream(50)) {
      const { body, text } = click(e.data);
      const r = row({ event_key: e.key, payload: text, occurred_at: e.at });
      expect(copy.prepare(r, structuredClone(body))).toEqual(enricher.prepare(r, structuredClone(body)));
    }
    const custom = createEnricher({
      geo: { databaseType: "x", lookup: () => ({ country: null, region: null }) },
      ip: { mode: "truncate" },
    });
    expect(custom.portable()).toBeUndefined();
    expect(
      createEnricher({ geo: null, ip: { mode: "drop" }, campaigns: { get: () => undefined } }).portable(),
    ).toBeUndefined();
  });
});

describe("enrich - the payload's privacy (stored, served and delivered)", () => {
  const hashKey = "a-secret-key-of-32-bytes-length!";
  const body = (data: Record<string, unknown>) => ({ event: "link.clicked", timestamp: "2026-11-29T12:00:00Z", data });

  it.each([
    ["truncate", (v: unknown) => expect(v).toBe("8.8.8.0")],
    ["hash", (v: unknown) => expect(v).toMatch(/^h_[\w-]{22}$/)],
    ["drop", (v: unknown) => expect(v).toBeUndefined()],
  ] as const)(
    "by default every address and user agent field is rewritten to what enrichment keeps (ip mode %s)",
    (mode, expectIp) => {
      const enricher = createEnricher({ geo, ip: { mode, hashKey } });
      const sent = body({
        link_id: "l1",
        ip: "8.8.8.8",
        user_agent: UA.safariIphone,
        click: { ip: "2a00:1450:4001:80b::200e", user_agent: UA.googlebot },
        note: "kept",
      });
      const text = JSON.stringify(sent);
      const out = enricher.enrich(row({ payload: text }), structuredClone(sent));
      const stored = JSON.parse(out.payload) as { data: Record<string, any> };
      expectIp(stored.data.ip);
      expect(stored.data.user_agent).toBe("Mobile Safari; iOS; mobile");
      expect(stored.data.click.user_agent).toBe("bot");
      if (mode === "truncate") expect(stored.data.click.ip).toBe("2a00:1450:4001::");
      for (const raw of ["8.8.8.8", "2a00:1450:4001:80b::200e", UA.safariIphone, UA.googlebot, "Googlebot", "17_4"])
        expect(out.payload).not.toContain(raw);
      expect(stored.data.note).toBe("kept");
      // Enrichment read the values before they were rewritten.
      expect(out.enriched).toMatchObject({ geo_country: "US", os_name: "iOS", device_type: "mobile" });
    },
  );

  it("a field that is not an address is dropped rather than kept; a body with neither stays byte for byte", () => {
    const enricher = createEnricher({ geo: null, ip: { mode: "truncate" } });
    const odd = body({ ip: "not-an-ip 8.8.8.8" });
    expect(JSON.parse(enricher.enrich(row(), odd).payload).data).toEqual({});
    const plain = JSON.stringify(body({ link_id: "l1", campaign: "c" })).replace("{", "{ ");
    expect(enricher.enrich(row({ payload: plain }), JSON.parse(plain)).payload).toBe(plain);
  });

  it("a source that opts in keeps them raw; the enriched columns are the same either way", () => {
    const enricher = createEnricher({ geo, ip: { mode: "truncate" }, sources: { crm: { payload: "raw" } } });
    const sent = body({ link_id: "l1", ip: "8.8.8.8", user_agent: UA.chromeWindows });
    const text = JSON.stringify(sent);
    const raw = enricher.enrich(row({ source: "crm", payload: text }), structuredClone(sent));
    const reduced = enricher.enrich(row({ source: "demo", payload: text }), structuredClone(sent));
    expect(raw.payload).toBe(text);
    expect(reduced.payload).not.toContain("8.8.8.8");
    const { is_unique: _a, ...rawColumns } = raw.enriched!;
    const { is_unique: _b, ...reducedColumns } = reduced.enriched!;
    expect(rawColumns).toEqual(reducedColumns);
  });

  it("the enricher-wide switch turns it off for every source", () => {
    const enricher = createEnricher({ geo: null, ip: { mode: "truncate" }, payload: "raw" });
    const text = JSON.stringify(body({ ip: "8.8.8.8", user_agent: UA.curl }));
    expect(enricher.enrich(row({ payload: text }), JSON.parse(text)).payload).toBe(text);
  });
});

describe("enrich - what senders already send", () => {
  const enricher = createEnricher({ geo, ip: { mode: "truncate" } });
  const enrich = (event: string, data: Record<string, unknown>, source = "demo") => {
    const sent = { event, timestamp: "2026-11-29T12:00:00Z", data };
    return enricher.enrich(row({ source, event_type: event, payload: JSON.stringify(sent) }), sent).enriched!;
  };

  it.each(SENDER_EXAMPLES)("$name: country, device, platform and channel are not NULL", ({ event, data, expected }) => {
    const enriched = enrich(event, data);
    expect(enriched).toMatchObject(expected);
    for (const column of ["geo_country", "device_type", "platform", "channel"] as const)
      expect(enriched[column], column).not.toBeNull();
  });

  it("the sender's value wins over the derived one by default; `prefer: derived` turns that round", () => {
    const data = { link_id: "l1", ip: "8.8.8.8", country: "de", user_agent: UA.chromeWindows, device_type: "tablet" };
    // (enrich rewrites the body it is given: each call gets its own copy)
    expect(enrich("link.clicked", structuredClone(data))).toMatchObject({
      geo_country: "DE",
      device_type: "tablet",
      platform: "web",
    });
    const derived = createEnricher({ geo, ip: { mode: "truncate" }, prefer: "derived" });
    const sent = { event: "link.clicked", data: structuredClone(data) };
    expect(derived.enrich(row({ payload: JSON.stringify(sent) }), sent).enriched).toMatchObject({
      geo_country: "US",
      device_type: "desktop",
    });
  });

  it("values not of a column's form are ignored, never stored as new categories", () => {
    const enriched = enrich("link.clicked", {
      country: "Germany",
      ip_region: "not a region",
      device_type: "fridge",
      platform: "iOS 17 (beta)",
      channel: "E-mail campaign!",
    });
    expect(enriched).toMatchObject({
      geo_country: null,
      geo_region: null,
      device_type: null,
      platform: null,
      channel: null,
    });
  });

  it("revenue as exact decimal text with its currency; a currency without an amount is not kept", () => {
    expect(enrich("link.conversion", { revenue: 49.99, currency: "usd" })).toMatchObject({
      revenue: "49.99",
      currency: "USD",
    });
    expect(enrich("link.conversion", { revenue: "0120.500" })).toMatchObject({ revenue: "120.5", currency: null });
    expect(enrich("link.conversion", { revenue: "lots", currency: "EUR" })).toMatchObject({
      revenue: null,
      currency: null,
    });
  });

  it("is_unique names the rule that decided it, and is NULL with it", () => {
    expect(enrich("link.clicked", { link_id: "l9", ip: "8.8.4.4", user_agent: UA.curl })).toMatchObject({
      is_unique: true,
      unique_rule: "per_link_24h",
    });
    expect(enrich("link.clicked", { link_id: "l9" })).toMatchObject({ is_unique: null, unique_rule: null });
  });
});

describe("enrich - visitor_hash (what erasure of one visitor finds rows by)", () => {
  const hashKey = "a-secret-key-of-32-bytes-length!";
  const at = (iso: string) => new Date(iso);
  const hashOf = (enricher: ReturnType<typeof createEnricher>, ip: string, ua: string, iso: string) => {
    const { body, text } = click({ link_id: "l1", ip, user_agent: ua });
    return enricher.enrich(row({ payload: text, occurred_at: at(iso), received_at: at(iso) }), body).enriched!
      .visitor_hash;
  };

  it("is one keyed hash per visitor and salt period, and the visitor's hashes over a range find every period's", () => {
    const enricher = createEnricher({ geo, ip: { mode: "truncate", hashKey } });
    const monday = hashOf(enricher, "8.8.8.8", UA.chromeWindows, "2026-12-01T10:00:00Z");
    expect(monday).toMatch(/^h_/);
    expect(hashOf(enricher, "8.8.8.8", UA.chromeWindows, "2026-12-01T23:00:00Z")).toBe(monday);
    // Another period, another user agent or another address: another hash.
    const tuesday = hashOf(enricher, "8.8.8.8", UA.chromeWindows, "2026-12-02T10:00:00Z");
    expect(tuesday).not.toBe(monday);
    expect(hashOf(enricher, "8.8.8.8", UA.firefoxMac, "2026-12-01T10:00:00Z")).not.toBe(monday);
    expect(hashOf(enricher, "8.8.4.4", UA.chromeWindows, "2026-12-01T10:00:00Z")).not.toBe(monday);

    const hashes = enricher.visitorHashes(
      "::ffff:8.8.8.8",
      UA.chromeWindows,
      at("2026-11-30T00:00:00Z"),
      at("2026-12-02T12:00:00Z"),
    );
    expect(hashes).toHaveLength(3);
    expect(hashes).toContain(monday);
    expect(hashes).toContain(tuesday);
    // Another enricher under the same key (a restart) finds the same hashes; another key does not.
    const restarted = createEnricher({ geo, ip: { mode: "truncate", hashKey } });
    expect(hashOf(restarted, "8.8.8.8", UA.chromeWindows, "2026-12-01T10:00:00Z")).toBe(monday);
    const rekeyed = createEnricher({ geo, ip: { mode: "truncate", hashKey: "another-secret-key-32-bytes-long" } });
    expect(hashOf(rekeyed, "8.8.8.8", UA.chromeWindows, "2026-12-01T10:00:00Z")).not.toBe(monday);
  });

  it("is NULL without a hash key, and finding a visitor then says why it cannot", () => {
    const enricher = createEnricher({ geo, ip: { mode: "truncate" } });
    expect(hashOf(enricher, "8.8.8.8", UA.chromeWindows, "2026-12-01T10:00:00Z")).toBeNull();
    expect(() =>
      enricher.visitorHashes("8.8.8.8", null, at("2026-12-01T00:00:00Z"), at("2026-12-02T00:00:00Z")),
    ).toThrow(expect.objectContaining({ code: "visitor_hash_unavailable" }));
  });

  it("refuses an address that is not one, and a range of more salt periods than it recomputes", () => {
    const enricher = createEnricher({ geo, ip: { mode: "truncate", hashKey, saltRotationSeconds: 60 } });
    expect(() =>
      enricher.visitorHashes("not-an-ip", null, at("2026-12-01T00:00:00Z"), at("2026-12-01T00:01:00Z")),
    ).toThrow(expect.objectContaining({ code: "enrich_config_invalid" }));
    expect(() =>
      enricher.visitorHashes("8.8.8.8", null, at("2026-01-01T00:00:00Z"), at("2026-12-01T00:00:00Z")),
    ).toThrow(expect.objectContaining({ code: "enrich_range_too_long" }));
  });
});
