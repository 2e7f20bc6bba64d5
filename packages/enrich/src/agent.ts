import { isbot } from "isbot";
import { LRUCache } from "lru-cache";
import { agentFamilies } from "./families.js";

export interface AgentInfo {
  device_type: string;
  os_name: string | null;
  browser_name: string | null;
  is_bot: boolean;
  bot_kind: "bot" | "prefetcher" | null;
}

/**
 * Link-preview fetchers ("unfurlers") and mail scanners that open a link without a person behind it.
 * isbot knows most of them as bots; this list tells the preview kind apart, because a preview is
 * an expected side effect of sharing a link, not a crawler. Hand-written: no maintained library
 * draws this line.
 */
const PREFETCHER =
  /(slackbot-linkexpanding|slack-imgproxy|facebookexternalhit|facebot|twitterbot|whatsapp|telegrambot|discordbot|linkedinbot|skypeuripreview|iframely|embedly|pinterestbot|redditbot|applebot|vkshare|viber|snapchat|google-pagerenderer|googleimageproxy|microsoft office|bingpreview|outlook|yahoo!? ?mail proxy|mattermost|zoom|teams)/i;

const NO_AGENT: AgentInfo = {
  device_type: "unknown",
  os_name: null,
  browser_name: null,
  is_bot: false,
  bot_kind: null,
};

export function classifyAgent(ua: string | null): AgentInfo {
  if (ua === null) return { ...NO_AGENT };
  const prefetcher = PREFETCHER.test(ua);
  const bot = prefetcher || isbot(ua);
  const families = agentFamilies(ua);
  return {
    device_type: bot ? "bot" : families.device_type,
    os_name: families.os_name,
    browser_name: families.browser_name,
    is_bot: bot,
    bot_kind: prefetcher ? "prefetcher" : bot ? "bot" : null,
  };
}

export const DEFAULT_UA_CACHE_SIZE = 10_000;

/**
 * classifyAgent behind a bounded least-recently-used cache (lru-cache). Parsing a UA costs tens of
 * µs (dozens of regular expressions) while real click traffic repeats a few thousand UA strings, so
 * the cache turns the stage's most expensive step into a map lookup; the UAs seen most often stay.
 */
export function cachedAgentClassifier(size = DEFAULT_UA_CACHE_SIZE): (ua: string | null) => AgentInfo {
  const cache = new LRUCache<string, AgentInfo>({ max: size });
  return (ua) => {
    if (ua === null) return classifyAgent(null);
    let info = cache.get(ua);
    if (info === undefined) {
      info = classifyAgent(ua);
      cache.set(ua, info);
    }
    return info;
  };
}
