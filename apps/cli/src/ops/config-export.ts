import type { ManagementApi } from "./api.js";
import { SOURCE_SETTING_KEYS, subscriptionSettingKeys } from "./config-file.js";
import { listResources, settingsOf, type Settings, type SourceView, type SubscriptionView } from "./resources.js";

/**
 * Every source and subscription as one document in the format `config apply` reads, without a
 * secret value: a source's secrets become references to environment variables named after them
 * (TRIBUTARY_SOURCE_<SOURCE>_<SECRET>), which apply reads only for a secret the API lacks, so
 * applying the export to the API it came from changes nothing.
 */

export interface ExportedConfig {
  sources: Record<string, Settings>;
  subscriptions: Record<string, Settings>;
}

/** The environment variable an exported secret reference names. */
export function secretEnvName(source: string, secret: string): string {
  return `TRIBUTARY_SOURCE_${source}_${secret}`.toUpperCase().replace(/[^A-Z0-9_]/g, "_");
}

export async function exportConfig(api: ManagementApi): Promise<ExportedConfig> {
  const [sources, subscriptions, keys] = await Promise.all([
    listResources<SourceView>(api, "sources"),
    listResources<SubscriptionView>(api, "subscriptions"),
    subscriptionSettingKeys(),
  ]);
  return {
    sources: Object.fromEntries(
      sources.map((s) => [
        s.id,
        {
          ...settingsOf("sources", s, SOURCE_SETTING_KEYS),
          secrets: s.secrets.map((secret) => ({ id: secret.id, env: secretEnvName(s.id, secret.id) })),
        },
      ]),
    ),
    subscriptions: Object.fromEntries(
      subscriptions.map((s) => [
        s.id,
        { ...settingsOf("subscriptions", s, keys), ...(s.paused ? { paused: true } : {}) },
      ]),
    ),
  };
}
