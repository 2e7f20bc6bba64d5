import { getPath } from "./paths.js";

/**
 * Values senders already put in their bodies (a click's `ip_country` and `platform`, a conversion's
 * `revenue`), read and normalised so that they can stand in a column beside the derived ones. Each
 * reader answers null for what is absent or not of the column's form (a country that is not two
 * letters, a device type outside the list): a sender's typo never becomes a new category.
 */
export interface SenderFields {
  country: string | null;
  region: string | null;
  deviceType: string | null;
  platform: string | null;
  channel: string | null;
  revenue: string | null;
  currency: string | null;
}

/** The device types the UA classification uses; a sender's `phone` or `pc` is mapped onto them. */
const DEVICE_TYPES = new Map<string, string>([
  ["mobile", "mobile"],
  ["phone", "mobile"],
  ["smartphone", "mobile"],
  ["tablet", "tablet"],
  ["desktop", "desktop"],
  ["pc", "desktop"],
  ["computer", "desktop"],
  ["smarttv", "smarttv"],
  ["tv", "smarttv"],
  ["console", "console"],
  ["wearable", "wearable"],
  ["embedded", "embedded"],
  ["xr", "xr"],
  ["bot", "bot"],
  ["unknown", "unknown"],
]);

const COUNTRY = /^[A-Za-z]{2}$/;
/** An ISO 3166-2 code (`US-CA`) or its subdivision part alone (`CA`). */
const REGION = /^(?:([A-Za-z]{2})-)?([A-Za-z0-9]{1,3})$/;
/** Platform and channel: a short lower-case token (ios, android, web; email, social, paid_search). */
const TOKEN = /^[a-z0-9][a-z0-9_.+-]{0,31}$/;
const CURRENCY = /^[A-Za-z]{3}$/;
/** A decimal amount as text: what a sum over it in SQL reads exactly (no binary float on the way). */
const AMOUNT = /^-?\d{1,15}(?:\.\d{1,6})?$/;

function text(body: unknown, paths: ReadonlyArray<readonly string[]>): string | null {
  for (const path of paths) {
    const value = getPath(body, path);
    if (typeof value === "string" && value.trim() !== "") return value.trim();
  }
  return null;
}

export function senderCountry(body: unknown, paths: ReadonlyArray<readonly string[]>): string | null {
  const value = text(body, paths);
  return value !== null && COUNTRY.test(value) ? value.toUpperCase() : null;
}

/** `US-CA`: a bare subdivision (`CA`) takes the country, given or derived; without one it is dropped. */
export function senderRegion(
  body: unknown,
  paths: ReadonlyArray<readonly string[]>,
  country: string | null,
): string | null {
  const match = REGION.exec(text(body, paths) ?? "");
  if (!match) return null;
  const prefix = match[1]?.toUpperCase() ?? country;
  return prefix ? `${prefix}-${match[2]!.toUpperCase()}` : null;
}

export function senderDeviceType(body: unknown, paths: ReadonlyArray<readonly string[]>): string | null {
  const value = text(body, paths);
  return value === null ? null : (DEVICE_TYPES.get(value.toLowerCase()) ?? null);
}

export function senderToken(body: unknown, paths: ReadonlyArray<readonly string[]>): string | null {
  const value = text(body, paths)?.toLowerCase() ?? null;
  return value !== null && TOKEN.test(value) ? value : null;
}

/** A number or numeric text as canonical decimal text (`49.9`, `120`); null for anything else. */
export function senderAmount(body: unknown, paths: ReadonlyArray<readonly string[]>): string | null {
  for (const path of paths) {
    const value = getPath(body, path);
    if (typeof value === "number" && Number.isFinite(value)) {
      const textual = String(value);
      return AMOUNT.test(textual) ? textual : null;
    }
    if (typeof value === "string" && AMOUNT.test(value.trim())) return canonicalDecimal(value.trim());
  }
  return null;
}

export function senderCurrency(body: unknown, paths: ReadonlyArray<readonly string[]>): string | null {
  const value = text(body, paths);
  return value !== null && CURRENCY.test(value) ? value.toUpperCase() : null;
}

/** `049.50` → `49.5`: one text per amount, whatever zeros the sender wrote. */
function canonicalDecimal(value: string): string {
  const negative = value.startsWith("-");
  const [whole, fraction = ""] = (negative ? value.slice(1) : value).split(".");
  const w = whole!.replace(/^0+(?=\d)/, "");
  const f = fraction.replace(/0+$/, "");
  const out = f === "" ? w : `${w}.${f}`;
  return negative && out !== "0" ? `-${out}` : out;
}

/** The platform a UA's operating system means, for events whose sender named none. */
export function platformOfOs(osName: string | null, deviceType: string | null): string | null {
  if (osName === null) return null;
  const os = osName.toLowerCase();
  if (os === "ios" || os === "ipados") return "ios";
  if (os === "android") return "android";
  if (deviceType === "bot") return null;
  return "web";
}
