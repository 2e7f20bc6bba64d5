import { createRequire } from "node:module";
import { Reader, type Response } from "maxmind";
import { readFileSync } from "node:fs";
import { EnrichError } from "./errors.js";

export interface GeoResult {
  country: string | null;
  region: string | null;
}

export interface GeoLookup {
  lookup(ip: string): GeoResult;
  readonly databaseType: string;
  /** The MMDB file it reads, when it reads one (another thread can open it too). */
  readonly path?: string;
}

const NONE: GeoResult = { country: null, region: null };

/**
 * The CC0 country database shipped in `@ip-location-db/geo-whois-asn-country-mmdb` (WHOIS and
 * ASN data; countries only, IPv4 and IPv6 in one file).
 */
export function bundledGeoDatabasePath(): string {
  const require = createRequire(import.meta.url);
  return require.resolve("@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb");
}

interface MmdbRecord {
  country_code?: string; // ip-location-db layout
  country?: { iso_code?: string }; // MaxMind GeoIP2/GeoLite2 layout
  registered_country?: { iso_code?: string };
  subdivisions?: Array<{ iso_code?: string }>;
}

/**
 * Opens an MMDB file: the bundled one by default, or a GeoLite2/GeoIP2 City or Country file the
 * operator supplies (then subdivisions give `region`). Read once into memory (the bundled file is
 * ~8 MB) so lookups are synchronous.
 */
export function openGeoDatabase(path: string = bundledGeoDatabasePath()): GeoLookup {
  let reader: Reader<Response>;
  try {
    reader = new Reader<Response>(readFileSync(path));
  } catch (err) {
    throw new EnrichError(
      "geo_database_unreadable",
      `cannot read the MMDB geo database at ${path}: ${(err as Error).message} — point enrich.geoDatabase at a GeoLite2/GeoIP2 .mmdb file or leave it unset for the bundled one`,
      { cause: err },
    );
  }
  return {
    databaseType: reader.metadata.databaseType,
    path,
    lookup(ip: string): GeoResult {
      let record: MmdbRecord | null;
      try {
        record = reader.get(ip) as MmdbRecord | null;
      } catch {
        return NONE; // not an IP address
      }
      if (!record) return NONE;
      const country = record.country_code ?? record.country?.iso_code ?? record.registered_country?.iso_code ?? null;
      const sub = record.subdivisions?.[0]?.iso_code;
      return { country, region: sub && country ? `${country}-${sub}` : null };
    },
  };
}
