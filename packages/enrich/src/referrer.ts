export type ReferrerCategory = "direct" | "search" | "social" | "email" | "internal" | "other";

// Hand-written: the referer-parser data sets are unmaintained on npm; the families below cover
// what deep-link traffic shows, and anything else is "other".
const SEARCH = /(^|\.)(google|bing|duckduckgo|yahoo|baidu|yandex|ecosia|qwant|naver|brave|startpage)\.[a-z.]+$/;
const SOCIAL =
  /(^|\.)(facebook\.com|fb\.me|instagram\.com|t\.co|twitter\.com|x\.com|linkedin\.com|lnkd\.in|reddit\.com|tiktok\.com|pinterest\.[a-z.]+|youtube\.com|youtu\.be|threads\.net|snapchat\.com|whatsapp\.com|telegram\.org|t\.me|discord\.com|bsky\.app|mastodon\.social)$/;
const EMAIL =
  /(^|\.)(mail\.google\.com|outlook\.live\.com|outlook\.office\.com|outlook\.office365\.com|mail\.yahoo\.com|mail\.proton\.me|mail\.aol\.com|webmail\.[a-z.]+)$/;

/** The category of a referrer URL; `internal` for the operator's own domains (and their subdomains). */
export function categorizeReferrer(referrer: string | null, internalDomains: readonly string[] = []): ReferrerCategory {
  if (referrer === null) return "direct";
  let host: string;
  try {
    host = new URL(referrer).hostname.toLowerCase();
  } catch {
    // Android apps send android-app://com.google.android.gm and similar; unparseable is "other".
    return /android-app:\/\/com\.google\.android\.gm/.test(referrer) ? "email" : "other";
  }
  if (internalDomains.some((d) => host === d || host.endsWith(`.${d}`))) return "internal";
  if (EMAIL.test(host)) return "email";
  if (SEARCH.test(host)) return "search";
  if (SOCIAL.test(host)) return "social";
  return "other";
}
