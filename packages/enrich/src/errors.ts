import { defineErrors } from "@tributary/errors";

/** What can go wrong while setting enrichment up (never per event: events degrade to NULLs). */
export const ENRICH_ERRORS = {
  geo_database_unreadable: {
    meaning: "The geo database file cannot be read or is not an MMDB file.",
    fix: "Point `enrich.geo.database` at a readable GeoLite2/GeoIP2 City or Country .mmdb file, or leave it out.",
  },
  campaign_file_unreadable: {
    meaning: "The campaign mapping file cannot be read or is not valid.",
    fix: "Check `enrich.campaigns.file`: a readable JSON file of the documented shape.",
  },
  enrich_config_invalid: {
    meaning: "An enrichment option cannot work as given.",
    fix: "Correct the option the message names.",
  },
  visitor_hash_unavailable: {
    meaning: "No hash key is configured, so no visitor hashes are stored and one visitor's rows cannot be found.",
    fix: "Set `enrich.hashKeyEnv` or `enrich.hashKeyFile` (rows loaded from then on carry a visitor hash); erase by event key or source meanwhile.",
  },
  enrich_range_too_long: {
    meaning: "The time range spans more salt periods than one request recomputes.",
    fix: "Give a shorter range (`from`/`to`), or erase in several requests.",
  },
} as const;
export type EnrichErrorCode = keyof typeof ENRICH_ERRORS;

export class EnrichError extends defineErrors("EnrichError", ENRICH_ERRORS) {}
