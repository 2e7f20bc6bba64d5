/** Stable codes for what can go wrong while setting enrichment up (never per event: events degrade to NULLs). */
export type EnrichErrorCode = "geo_database_unreadable" | "campaign_file_unreadable" | "enrich_config_invalid";

export class EnrichError extends Error {
  constructor(
    readonly code: EnrichErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "EnrichError";
  }
}
