/**
 * In-process counters behind `GET /v1/stats`. Plain numbers for now; the telemetry package will
 * export the same names as OpenTelemetry instruments.
 */
export class GatewayCounters {
  accepted = 0;
  duplicates = 0;
  readonly refused = new Map<string, number>();
  readonly unknownEventTypes = new Map<string, number>();
  /** source → secret id → { count, lastUsedAt }: shows when an old secret is safe to retire. */
  readonly secrets = new Map<string, Map<string, { count: number; lastUsedAt: number }>>();

  refusal(code: string): void {
    this.refused.set(code, (this.refused.get(code) ?? 0) + 1);
  }

  unknownEventType(source: string): void {
    this.unknownEventTypes.set(source, (this.unknownEventTypes.get(source) ?? 0) + 1);
  }

  secretUsed(source: string, secretId: string): void {
    let bySecret = this.secrets.get(source);
    if (!bySecret) this.secrets.set(source, (bySecret = new Map()));
    const entry = bySecret.get(secretId);
    if (entry) {
      entry.count++;
      entry.lastUsedAt = Date.now();
    } else bySecret.set(secretId, { count: 1, lastUsedAt: Date.now() });
  }

  toJSON(): Record<string, unknown> {
    return {
      accepted: this.accepted,
      duplicates: this.duplicates,
      refused: Object.fromEntries(this.refused),
      unknown_event_types: Object.fromEntries(this.unknownEventTypes),
      secrets: Object.fromEntries(
        [...this.secrets].map(([source, bySecret]) => [
          source,
          Object.fromEntries([...bySecret].map(([id, e]) => [id, { count: e.count, last_used_at: new Date(e.lastUsedAt).toISOString() }])),
        ]),
      ),
    };
  }
}
