import UAParser from "ua-parser-js";

/** What a user agent says about the device, its OS and its browser: families, never the UA itself. */
export interface AgentFamilies {
  /** mobile, tablet, desktop, smarttv, console, wearable, embedded, xr, or unknown. */
  device_type: string;
  os_name: string | null;
  browser_name: string | null;
}

/**
 * The parser is ua-parser-js 1.x: the MIT line (2.x is AGPL-3.0), of the same author, with the same
 * detection rules and about three times the speed of 2.x here (BENCH.md). 2.x renamed some families;
 * the rows stored so far carry the 2.x names, so the few that differ are renamed below and a family
 * means the same thing in every row, whichever parser stored it.
 */
const OS_NAMES: Readonly<Record<string, string>> = {
  "Mac OS": "macOS",
  "Chromium OS": "Chrome OS",
  WEBOS: "webOS",
  "Windows Phone OS": "Windows Phone",
};

// Chrome and Firefox for phones and tablets are families of their own: Chrome for iOS (CriOS) and
// Android (CrMo, or "Chrome/<version> Mobile"); Firefox for iOS (FxiOS) and for Android, which says
// "Mobile;" or "Tablet;" before Firefox. 1.x reports both as plain Chrome and Firefox.
const MOBILE_CHROME = /\b(?:crios|crmo)\/|\bchrome\/[\w.]+ mobile/i;
const MOBILE_FIREFOX = /\bfxios\/|\b(?:mobile|tablet);.*\bfirefox\//i;

// Headsets (Meta Quest, Pico, Firefox Reality/Wolvic) put a "VR" token in their UA; 1.x reports them
// as wearables or as no device at all.
const XR_TOKEN = /\bVR\b/;

// One parser, re-pointed at each UA: building a new one per call costs more than the parse itself.
// Only the three parts used are read (the engine and CPU are never parsed).
const parser = new UAParser();

export function agentFamilies(ua: string): AgentFamilies {
  parser.setUA(ua);
  const browser = parser.getBrowser().name;
  const parsedOs = parser.getOS().name;
  const device = parser.getDevice().type;
  const os = parsedOs === undefined ? null : (OS_NAMES[parsedOs] ?? parsedOs);
  let browserName = browser ?? null;
  if (browser === "Chrome" && MOBILE_CHROME.test(ua)) browserName = "Mobile Chrome";
  else if (browser === "Firefox" && MOBILE_FIREFOX.test(ua)) browserName = "Mobile Firefox";
  const xr = (device === undefined || device === "wearable") && XR_TOKEN.test(ua);
  return {
    // No device type but a known OS is a desktop: parsers name only the devices they recognise.
    device_type: xr ? "xr" : (device ?? (os !== null ? "desktop" : "unknown")),
    os_name: os,
    browser_name: browserName,
  };
}
