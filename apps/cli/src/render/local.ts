import { DEFAULT_TOPOLOGY, type DestinationSpec, type Topology } from "@tributary/local";
import { curlExample } from "../send.js";

/** What `up` prints once the local system runs: where each part listens and what to try. */
export function upBanner(
  topology: Topology,
  stateDir: string,
  destinations: DestinationSpec[],
  source: string,
): string {
  const regionLines = [...topology.regions.values()]
    .map(
      (r) =>
        `  region ${r.region}   gateway ${r.gatewayUrl}   NATS ${r.natsUrls.join(", ")} (domain ${r.region}, stream EVENTS_${r.region.toUpperCase()}${r.nodes.length > 1 ? `, R${r.nodes.length}` : ""})`,
    )
    .join("\n");
  const us = topology.regions.get("us")!;
  return `
Tributary is running:
${regionLines}
  hub         NATS ${topology.hubNodes.map((n) => n.url).join(", ")} (domain hub, stream EVENTS sourcing every region${topology.hubNodes.length > 1 ? `, R${topology.hubNodes.length}` : ""})
  aggregator  ${topology.aggregatorUrl}   (DuckDB: ${stateDir}/tributary.duckdb)
  delivery    ${topology.delivery.url}   (${destinations.length > 0 ? `destinations: ${destinations.map((d) => d.name).join(", ")}, and ` : ""}the management API's subscriptions; \`npm run tributary -- destinations\`)
  API         ${topology.aggregatorUrl}/v1/openapi.json   (events, analytics, sources, subscriptions, audit)
              admin token: ${topology.apiToken}   (also in ${stateDir}/context.json, which the CLI reads)
  console     ${topology.aggregatorUrl}/console/   (the web console: sign in with the admin token)
  metrics     ${us.gatewayOpsUrl}/metrics, ${topology.aggregatorUrl}/metrics, ${topology.delivery.url}/metrics (Prometheus format)

Send a signed event to region us (copy and paste into another terminal; use port ${DEFAULT_TOPOLOGY.gatewayPorts[1]} for eu):

${curlExample(us.gatewayUrl, source, topology.secretFile)}

  or: npm run tributary -- send --count 10 --region eu

See the rows that landed in DuckDB (an event sent to both regions is one row), and the pipeline:

  npm run tributary -- rows
  npm run tributary -- status
  npm run tributary -- reconcile

Manage sources and webhook subscriptions at runtime (no restart; both regions follow within seconds):

  npm run tributary -- sources create shop --scheme standard-webhooks
  npm run tributary -- subscriptions create crm --url http://127.0.0.1:9000/hooks --source shop
  npm run tributary -- subscriptions test crm

Press Ctrl-C (or run \`npm run tributary -- down\`) to stop.
`;
}
