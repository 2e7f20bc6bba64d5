import {
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import * as appsV1 from "kubernetes-models/apps/v1";
import * as autoscalingV2 from "kubernetes-models/autoscaling/v2";
import * as batchV1 from "kubernetes-models/batch/v1";
import * as networkingV1 from "kubernetes-models/networking.k8s.io/v1";
import * as policyV1 from "kubernetes-models/policy/v1";
import * as coreV1 from "kubernetes-models/v1";
import { resolveGatewayConfig } from "@tributary/gateway";
import { DestinationSchema } from "@tributary/delivery";
import { loadDeliveryConfig } from "@tributary/delivery-app";
import { AggregatorConfigSchema, loadAggregatorConfig, loadAggregatorSettings } from "@tributary/aggregator/config";
import {
  ACCOUNT,
  aggregatorPermissions,
  auditStreamConfig,
  CONTROL_KV_STREAM,
  controlMirrorExports,
  controlPermissions,
  controlReadPermissions,
  deliveriesStreamConfig,
  enrichedStreamConfig,
  deliveryConsumerConfig,
  deliveryDlqStreamConfig,
  deliveryFilterSubjects,
  deliveryPermissions,
  deliveryReplayStreamConfig,
  dlqStreamConfig,
  gatewayPermissions,
  hubSourceConsumerConfig,
  hubStreamConfig,
  leafPermissions,
  linkAccountName,
  linkExports,
  managedDeliveryPermissions,
  MAX_PAYLOAD_BYTES,
  natsServerIsRecentEnough,
  regionalStreamConfig,
  regionalStreamName,
  renderHubServerConfig,
  renderRegionServerConfig,
  type DeliveryScope,
} from "@tributary/streams";
import {
  CHARTS,
  chartDir,
  ENRICH_CHART_KEYS,
  enrichValuesSchema,
  ensureHelm,
  helm,
  HelmError,
  lintChart,
  parseNatsChartConfig,
  renderChart,
  withoutDefaults,
  type ChartName,
  type JsonSchema,
  type K8sObject,
} from "../src/index.js";
import { loadControl, requestedStreamConfig } from "./control.js";
import { loadEnrich } from "./enrich.js";
import { parseNatsConf } from "./nats-conf.js";

const FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));

/** Every values file a chart ships: values.yaml alone, then each values-*.yaml on top of it. */
function valuesFilesOf(chart: ChartName): Array<string | undefined> {
  return [
    undefined,
    ...readdirSync(chartDir(chart))
      .filter((f) => /^values-.+\.yaml$/.test(f))
      .map((f) => join(chartDir(chart), f)),
  ];
}

type Validating = new (data: never) => { validate(): void };
/** kubernetes-models classes by apiVersion/kind: an object of any other kind fails the test. */
const MODELS: Record<string, Validating> = {
  "v1/ConfigMap": coreV1.ConfigMap,
  "v1/Service": coreV1.Service,
  "v1/Pod": coreV1.Pod,
  "v1/PersistentVolumeClaim": coreV1.PersistentVolumeClaim,
  "v1/ServiceAccount": coreV1.ServiceAccount,
  "apps/v1/Deployment": appsV1.Deployment,
  "apps/v1/StatefulSet": appsV1.StatefulSet,
  "batch/v1/Job": batchV1.Job,
  "autoscaling/v2/HorizontalPodAutoscaler": autoscalingV2.HorizontalPodAutoscaler,
  "policy/v1/PodDisruptionBudget": policyV1.PodDisruptionBudget,
  "networking.k8s.io/v1/NetworkPolicy": networkingV1.NetworkPolicy,
};

interface PodSpecLike {
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  containers: Array<{
    name: string;
    image: string;
    resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
    securityContext?: {
      allowPrivilegeEscalation?: boolean;
      readOnlyRootFilesystem?: boolean;
      runAsNonRoot?: boolean;
      capabilities?: { drop?: string[] };
    };
    livenessProbe?: unknown;
    readinessProbe?: unknown;
    env?: Array<{ name: string; value?: string }>;
  }>;
}

function podSpecOf(o: K8sObject): PodSpecLike | undefined {
  const spec = o.spec as { template?: { spec: PodSpecLike } } & PodSpecLike;
  if (o.kind === "Pod") return spec;
  if (["Deployment", "StatefulSet", "Job"].includes(o.kind)) return spec.template!.spec;
  return undefined;
}

function natsConfigOf(objects: K8sObject[]): Record<string, unknown> {
  const cm = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name.endsWith("-nats-config"));
  expect(cm, "the NATS chart's ConfigMap").toBeDefined();
  return parseNatsChartConfig((cm!.data as Record<string, string>)["nats.conf"]!);
}

interface NatsUser {
  user: string;
  password: string;
  allowed_connection_types: string[];
  permissions?: { publish: { allow: string[]; deny?: string[] }; subscribe: { allow: string[] } };
}
interface NatsAccount {
  jetstream?: string;
  users: NatsUser[];
  imports?: unknown[];
  exports?: unknown[];
}
function accountsOf(config: Record<string, unknown>): Record<string, NatsAccount> {
  return config.accounts as Record<string, NatsAccount>;
}
/** The users of the TRIBUTARY account (the clients; the hub's leafnode links have accounts of their own). */
function usersOf(config: Record<string, unknown>): Map<string, NatsUser> {
  return new Map(accountsOf(config)[ACCOUNT]!.users.map((u) => [u.user, u]));
}

function configMapJson(objects: K8sObject[], nameSuffix: string, key: string): Record<string, unknown> {
  const cm = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name.endsWith(nameSuffix));
  expect(cm, `ConfigMap *${nameSuffix}`).toBeDefined();
  return JSON.parse((cm!.data as Record<string, string>)[key]!) as Record<string, unknown>;
}

beforeAll(async () => {
  await ensureHelm(); // extracts the binary once, before the tests run in parallel
}, 60_000);

describe.each(CHARTS)("%s", (chart) => {
  const rendered = new Map<string, K8sObject[]>();
  beforeAll(async () => {
    for (const file of valuesFilesOf(chart))
      rendered.set(file ?? "values.yaml", await renderChart(chart, file ? { valuesFiles: [file] } : {}));
  }, 60_000);
  const each = () => [...rendered.entries()];

  it("helm - `helm lint --strict` passes for every values file", async () => {
    for (const file of valuesFilesOf(chart)) {
      const out = await lintChart(chart, file ? { valuesFiles: [file] } : {});
      expect(out).toContain("0 chart(s) failed");
    }
  });

  it("helm - a values file with a wrong type or an unknown key fails lint and template (values.schema.json)", async () => {
    const prefix = chart === "tributary-gateway" ? "gateway" : "hub";
    for (const [fixture, message] of [
      [`${prefix}-wrong-type.yaml`, /Invalid type|Expected: array/],
      [`${prefix}-unknown-key.yaml`, /Additional property \w+ is not allowed/],
    ] as const) {
      const valuesFiles = [join(FIXTURES, fixture)];
      await expect(renderChart(chart, { valuesFiles })).rejects.toThrow(message);
      await expect(lintChart(chart, { valuesFiles })).rejects.toBeInstanceOf(HelmError);
    }
  });

  it("kubernetes - every rendered object validates against the Kubernetes schemas", () => {
    for (const [file, objects] of each()) {
      expect(objects.length).toBeGreaterThan(5);
      for (const o of objects) {
        const key = `${o.apiVersion}/${o.kind}`;
        if (key === "monitoring.coreos.com/v1/ServiceMonitor") continue; // a CRD: checked below
        const Model = MODELS[key];
        expect(Model, `${file}: no schema for ${key} (${o.metadata.name})`).toBeDefined();
        expect(() => new Model!(o as never).validate(), `${file}: ${key} ${o.metadata.name}`).not.toThrow();
      }
    }
  });

  it("security - every container is non-root, cannot escalate, has a read-only root, drops all capabilities and has resources", () => {
    for (const [file, objects] of each()) {
      for (const o of objects) {
        const pod = podSpecOf(o);
        if (!pod) continue;
        expect(pod.securityContext?.runAsNonRoot, `${file}: ${o.kind} ${o.metadata.name} runAsNonRoot`).toBe(true);
        expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
        for (const c of pod.containers) {
          const where = `${file}: ${o.kind} ${o.metadata.name}/${c.name}`;
          expect(c.securityContext?.allowPrivilegeEscalation, where).toBe(false);
          expect(c.securityContext?.readOnlyRootFilesystem, where).toBe(true);
          expect(c.securityContext?.capabilities?.drop, where).toContain("ALL");
          expect(c.resources?.requests?.memory, `${where} memory request`).toBeDefined();
          expect(c.resources?.limits?.memory, `${where} memory limit`).toBeDefined();
        }
      }
    }
  });

  it("security - the apps' long-running pods have liveness and readiness probes on /healthz and /readyz", () => {
    for (const [file, objects] of each()) {
      const apps = objects.filter((o) => o.kind === "Deployment");
      expect(apps.length, file).toBeGreaterThan(0);
      for (const app of apps) {
        const c = podSpecOf(app)!.containers[0]!;
        expect(c.livenessProbe, `${file}: ${app.metadata.name}`).toMatchObject({ httpGet: { path: "/healthz" } });
        expect(c.readinessProbe, `${file}: ${app.metadata.name}`).toMatchObject({ httpGet: { path: "/readyz" } });
      }
      const nats = objects.find((o) => o.kind === "StatefulSet")!;
      expect(podSpecOf(nats)!.containers[0]!.readinessProbe, `${file}: NATS readiness`).toBeDefined();
    }
  });

  it("secrets - no ConfigMap carries a secret value; secrets reach pods only from Secrets named in values", () => {
    const secretish = /password\s*[:=]\s*"(?!<<)[^"$]|BEGIN [A-Z ]*PRIVATE KEY|whsec_|nats-leaf:\/\/[^:\s]+:[^@\s]+@/i;
    for (const [file, objects] of each()) {
      expect(
        objects.some((o) => o.kind === "Secret"),
        `${file}: the chart creates no Secret`,
      ).toBe(false);
      for (const o of objects.filter((x) => x.kind === "ConfigMap")) {
        for (const [key, text] of Object.entries((o.data ?? {}) as Record<string, string>))
          expect(text, `${file}: ${o.metadata.name}/${key}`).not.toMatch(secretish);
      }
      for (const o of objects) {
        for (const c of podSpecOf(o)?.containers ?? []) {
          for (const e of c.env ?? []) {
            if (/PASS|SECRET|TOKEN|WAREHOUSE_URL|SEALING|HASH_KEY/.test(e.name))
              expect(e.value, `${file}: ${o.metadata.name}/${c.name} env ${e.name}`).toBeUndefined();
          }
        }
      }
    }
  });

  it("selectors - Services, PDBs and NetworkPolicies select only the pods of their own long-running workload, never a Job's or a test pod", () => {
    for (const [file, objects] of each()) {
      const pods = objects.flatMap((o) => {
        const labels =
          o.kind === "Pod"
            ? o.metadata.labels
            : (o.spec as { template?: { metadata?: { labels?: Record<string, string> } } } | undefined)?.template
                ?.metadata?.labels;
        return labels ? [{ owner: `${o.kind}/${o.metadata.name}`, kind: o.kind, labels }] : [];
      });
      for (const o of objects) {
        const spec = o.spec as {
          selector?: Record<string, string> | { matchLabels?: Record<string, string> };
          podSelector?: { matchLabels?: Record<string, string> };
        };
        const selector =
          o.kind === "Service"
            ? (spec.selector as Record<string, string>)
            : o.kind === "PodDisruptionBudget"
              ? (spec.selector as { matchLabels: Record<string, string> }).matchLabels
              : o.kind === "NetworkPolicy"
                ? spec.podSelector!.matchLabels!
                : undefined;
        if (!selector) continue;
        const selected = pods.filter((p) => Object.entries(selector).every(([k, v]) => p.labels[k] === v));
        expect(selected.length, `${file}: ${o.kind} ${o.metadata.name} selects some pods`).toBeGreaterThan(0);
        for (const p of selected)
          expect(["Deployment", "StatefulSet"], `${file}: ${o.kind} ${o.metadata.name} selects ${p.owner}`).toContain(
            p.kind,
          );
      }
    }
  });

  it("network - no NetworkPolicy selects the helm test pod (it must reach the app's Service)", () => {
    for (const [file, objects] of each()) {
      const testPod = objects.find((o) => o.kind === "Pod" && o.metadata.annotations?.["helm.sh/hook"] === "test")!;
      expect(testPod, file).toBeDefined();
      for (const np of objects.filter((o) => o.kind === "NetworkPolicy")) {
        const match = (np.spec as { podSelector: { matchLabels: Record<string, string> } }).podSelector.matchLabels;
        const selected = Object.entries(match).every(([k, v]) => testPod.metadata.labels?.[k] === v);
        expect(selected, `${file}: ${np.metadata.name} selects ${testPod.metadata.name}`).toBe(false);
      }
    }
  });

  it("notes - NOTES.txt renders for every values file and names the Secrets and `helm test`", async () => {
    // helm renders NOTES only on install; a copy of the chart with NOTES as a template shows it offline.
    const tmp = mkdtempSync(join(tmpdir(), "helm-notes-"));
    try {
      cpSync(chartDir(chart), join(tmp, chart), { recursive: true });
      const templates = join(tmp, chart, "templates");
      writeFileSync(
        join(templates, "_notes.tpl"),
        `{{- define "test.notes" -}}\n${readFileSync(join(templates, "NOTES.txt"), "utf8")}{{- end -}}\n`,
      );
      rmSync(join(templates, "NOTES.txt"));
      writeFileSync(join(templates, "notes.yaml"), 'notes: {{ include "test.notes" . | toJson }}\n');
      for (const file of valuesFilesOf(chart)) {
        const { stdout: rendered } = await helm([
          "template",
          "tributary",
          join(tmp, chart),
          "--show-only",
          "templates/notes.yaml",
          ...(file ? ["-f", file] : []),
        ]);
        const stdout = (parse(rendered) as { notes: string }).notes;
        expect(stdout, file).toContain("helm test tributary");
        expect(stdout, file).toMatch(/Secrets this release reads/);
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("wiring - the app's NATS URL, the provisioning Job's and the ServiceMonitor point at Services the chart renders", async () => {
    const objects = await renderChart(chart, { setJson: { "serviceMonitor.enabled": true } });
    const services = new Map(
      objects
        .filter((o) => o.kind === "Service")
        .map((o) => [
          o.metadata.name,
          o.spec as { ports: Array<{ name: string; port: number }>; selector: Record<string, string> },
        ]),
    );
    const natsService = services.get("tributary-nats")!;
    expect(natsService.ports.find((p) => p.name === "nats")?.port).toBe(4222);
    const appConfig =
      chart === "tributary-gateway"
        ? configMapJson(objects, "-gateway", "gateway.json")
        : configMapJson(objects, "-aggregator", "aggregator.json");
    // Over TLS: the client port requires it, and the app's tls:// URL refuses a server without it.
    expect((appConfig.nats as { servers: string[] }).servers).toEqual(["tls://tributary-nats:4222"]);
    const job = objects.find((o) => o.kind === "Job")!;
    expect(podSpecOf(job)!.containers[0]!.env).toContainEqual({
      name: "NATS_URL",
      value: "tls://tributary-nats:4222",
    });
    const monitor = objects.find((o) => o.kind === "ServiceMonitor")!;
    const monitorSpec = monitor.spec as {
      selector: { matchLabels: Record<string, string> };
      endpoints: Array<{ port: string; path: string }>;
    };
    // The gateway serves /metrics on its operations port, never on the port senders reach.
    const port = chart === "tributary-gateway" ? "ops" : "http";
    expect(monitorSpec.endpoints).toEqual([expect.objectContaining({ port, path: "/metrics" })]);
    // A ServiceMonitor selects Services by their labels: exactly one, with that port.
    const scraped = objects.filter(
      (o) =>
        o.kind === "Service" &&
        Object.entries(monitorSpec.selector.matchLabels).every(([k, v]) => o.metadata.labels?.[k] === v),
    );
    expect(scraped.map((o) => o.metadata.name)).toEqual([
      chart === "tributary-gateway" ? "tributary-gateway-ops" : "tributary-aggregator",
    ]);
    expect((scraped[0]!.spec as { ports: Array<{ name: string }> }).ports.map((p) => p.name)).toContain(port);
    if (chart === "tributary-gateway") {
      expect(services.get("tributary-gateway")!.ports.map((p) => p.name)).toEqual(["http"]);
      const config = configMapJson(objects, "-gateway", "gateway.json");
      expect([config.opsHost, config.opsPort]).toEqual(["0.0.0.0", 9464]);
    }
  });

  it("nats - JetStream has the chart's domain and `sync_interval: always` in every shipped values file", () => {
    for (const [file, objects] of each()) {
      const js = natsConfigOf(objects).jetstream as Record<string, unknown>;
      expect(js.sync_interval, file).toBe("always");
      expect(js.domain, file).toBe(chart === "tributary-hub" ? "hub" : file.includes("values-eu") ? "eu" : "us");
    }
  });

  it("nats - the servers run nats-server 2.15.1 in every shipped values file; a tag older than 2.14 (or without a version) fails lint and template", async () => {
    const natsImage = (objects: K8sObject[]) =>
      podSpecOf(objects.find((o) => o.kind === "StatefulSet")!)!.containers.find((c) => c.name === "nats")!.image;
    for (const [file, objects] of each()) expect(natsImage(objects), file).toBe("nats:2.15.1-alpine");
    for (const tag of ["2.10.27-alpine", "2.13.4", "latest"]) {
      const setJson = { "nats.container.image.tag": tag };
      await expect(renderChart(chart, { setJson }), tag).rejects.toThrow(
        /nats\.container\.image\.tag: Does not match pattern/,
      );
      await expect(lintChart(chart, { setJson }), tag).rejects.toBeInstanceOf(HelmError);
    }
    for (const tag of ["2.14.0", "2.15-alpine", "2.16.0-alpine3.22"])
      expect(natsImage(await renderChart(chart, { setJson: { "nats.container.image.tag": tag } }))).toBe(`nats:${tag}`);
  });

  it("nats - the schema's tag pattern accepts exactly the versions packages/streams' natsServerIsRecentEnough accepts", () => {
    const schema = JSON.parse(readFileSync(join(chartDir(chart), "values.schema.json"), "utf8")) as {
      properties: {
        nats: { properties: { container: { properties: { image: { properties: { tag: { pattern: string } } } } } } };
      };
    };
    const pattern = new RegExp(schema.properties.nats.properties.container.properties.image.properties.tag.pattern);
    for (const major of [1, 2, 3, 10]) {
      for (let minor = 0; minor <= 120; minor++) {
        for (const version of [`${major}.${minor}`, `${major}.${minor}.3`]) {
          for (const tag of [version, `${version}-alpine`, `v${version}-scratch`])
            expect(pattern.test(tag), tag).toBe(natsServerIsRecentEnough(version));
        }
      }
    }
  });
});

describe("production values", () => {
  it("production - each region's values and the hub run 3 NATS servers and R3 streams", async () => {
    const regions = readdirSync(chartDir("tributary-gateway")).filter((f) => /^values-.+\.yaml$/.test(f));
    expect(regions).toEqual(["values-eu.yaml", "values-us.yaml"]);
    for (const file of regions) {
      const objects = await renderChart("tributary-gateway", {
        valuesFiles: [join(chartDir("tributary-gateway"), file)],
      });
      const region = /^values-(.+)\.yaml$/.exec(file)![1]!;
      expect((objects.find((o) => o.kind === "StatefulSet")!.spec as { replicas: number }).replicas, file).toBe(3);
      expect(configMapJson(objects, "-streams", `EVENTS_${region.toUpperCase()}.json`).num_replicas, file).toBe(3);
      expect(natsConfigOf(objects).cluster, file).toBeDefined();
    }
    const hub = await renderChart("tributary-hub");
    expect((hub.find((o) => o.kind === "StatefulSet")!.spec as { replicas: number }).replicas).toBe(3);
    expect(configMapJson(hub, "-streams", "EVENTS.json").num_replicas).toBe(3);
    expect(configMapJson(hub, "-streams", "EVENTS_DLQ.json").num_replicas).toBe(3);
    expect((natsConfigOf(hub).leafnodes as { tls?: unknown }).tls).toBeDefined();
  });
});

describe("one source of truth: the charts against packages/streams", () => {
  it("gateway - users, permissions, domain and leafnode remote match packages/streams for each region", async () => {
    for (const region of ["us", "eu", "ap-south"]) {
      const objects = await renderChart("tributary-gateway", { setJson: { "global.tributary.region": region } });
      const config = natsConfigOf(objects);
      expect((config.jetstream as Record<string, unknown>).domain).toBe(region);
      const users = usersOf(config);
      expect([...users.keys()].sort()).toEqual(["admin", `gateway-${region}`].sort());
      expect(users.get(`gateway-${region}`)!.permissions).toEqual({
        publish: { allow: gatewayPermissions(region).publish },
        subscribe: { allow: gatewayPermissions(region).subscribe },
      });
      for (const u of users.values()) expect(u.allowed_connection_types).toEqual(["STANDARD"]);
      // TLS on the link whatever HUB_LEAFNODE_URL's scheme (no tlsCA here: the system's CAs).
      expect((config.leafnodes as { remotes: unknown[] }).remotes).toEqual([
        { url: "$HUB_LEAFNODE_URL", account: "TRIBUTARY", tls: {} },
      ]);
    }
  });

  it("hub - accounts, users and permissions match packages/streams: the aggregator in TRIBUTARY; each region's leaf user alone in its link account, exporting exactly linkExports, which TRIBUTARY imports, and importing exactly its own controlMirrorExports, which TRIBUTARY exports to it alone", async () => {
    const regions = ["us", "eu", "ap-south"];
    const objects = await renderChart("tributary-hub", { setJson: { "global.tributary.regions": regions } });
    const config = natsConfigOf(objects);
    expect((config.jetstream as Record<string, unknown>).domain).toBe("hub");
    const accounts = accountsOf(config);
    expect(Object.keys(accounts).sort()).toEqual([ACCOUNT, ...regions.map(linkAccountName)].sort());
    const users = usersOf(config);
    expect([...users.keys()].sort()).toEqual(["admin", "aggregator"]);
    const agg = aggregatorPermissions("warehouse-loader");
    expect(users.get("aggregator")!.permissions).toEqual({
      publish: { allow: agg.publish },
      subscribe: { allow: agg.subscribe },
    });
    for (const u of users.values()) expect(u.allowed_connection_types).toEqual(["STANDARD"]);
    for (const region of regions) {
      const link = accounts[linkAccountName(region)]!;
      const leaf = leafPermissions(region);
      expect(link.jetstream, region).toBeUndefined();
      expect(link.users, region).toEqual([
        {
          user: `leaf-${region}`,
          password: `$LEAF_${region.toUpperCase().replace(/-/g, "_")}_PASSWORD`,
          allowed_connection_types: ["LEAFNODE"],
          permissions: { publish: { allow: leaf.publish }, subscribe: { allow: leaf.subscribe } },
        },
      ]);
      const exported = linkExports(region);
      expect(link.exports, region).toEqual([
        ...exported.services.map((service) => ({ service, accounts: [ACCOUNT] })),
        ...exported.streams.map((stream) => ({ stream, accounts: [ACCOUNT] })),
      ]);
      const mirror = controlMirrorExports(region);
      expect(link.imports, region).toEqual([
        ...mirror.services.map((subject) => ({ service: { account: ACCOUNT, subject } })),
        ...mirror.streams.map((subject) => ({ stream: { account: ACCOUNT, subject } })),
      ]);
    }
    expect(accounts[ACCOUNT]!.exports).toEqual(
      regions.flatMap((region) => {
        const to = [linkAccountName(region)];
        const mirror = controlMirrorExports(region);
        return [
          ...mirror.services.map((service) => ({ service, accounts: to })),
          ...mirror.streams.map((stream) => ({ stream, accounts: to })),
        ];
      }),
    );
    expect(accounts[ACCOUNT]!.imports).toEqual(
      regions.flatMap((region) => {
        const account = linkAccountName(region);
        const exported = linkExports(region);
        return [
          ...exported.services.map((subject) => ({ service: { account, subject } })),
          ...exported.streams.map((subject) => ({ stream: { account, subject } })),
        ];
      }),
    );
  });

  it("hub - the delivery user exists only with delivery, with exactly deliveryPermissions of the configured destinations", async () => {
    expect(usersOf(natsConfigOf(await renderChart("tributary-hub"))).has("delivery")).toBe(false);
    const destinations = [
      { name: "crm", url: "https://crm.example.com/hooks", signing: { type: "none" } },
      { name: "bi_team", url: "http://bi.internal:8080/in", sources: ["demo"], signing: { type: "none" } },
      {
        name: "partner-eu",
        url: "https://partner.example.eu/",
        sources: ["demo", "shop"],
        types: ["link.clicked", "order.paid"],
        signing: { type: "none" },
      },
    ];
    for (const list of [[], destinations.slice(0, 1), destinations]) {
      const objects = await renderChart("tributary-hub", {
        setJson: { "global.tributary.delivery": { enabled: true, destinations: list } },
      });
      const users = usersOf(natsConfigOf(objects));
      expect([...users.keys()].sort()).toEqual(["admin", "aggregator", "delivery"]);
      const expected = deliveryPermissions(list);
      expect(users.get("delivery")!.permissions).toEqual({
        publish: { allow: expected.publish },
        subscribe: { allow: expected.subscribe },
      });
      expect(users.get("delivery")!.allowed_connection_types).toEqual(["STANDARD"]);
      // The aggregator's user is unchanged by delivery.
      const agg = aggregatorPermissions("warehouse-loader");
      expect(users.get("aggregator")!.permissions).toEqual({
        publish: { allow: agg.publish },
        subscribe: { allow: agg.subscribe },
      });
    }
  });

  it("hub - with control, the delivery user has exactly managedDeliveryPermissions (the aggregator's durable denied) and the user control exactly controlPermissions; without, neither", async () => {
    const control = { "global.tributary.control.enabled": true, "control.sealingKeys.existingSecret": "seal" };
    const destinations = [{ name: "crm", url: "https://crm.example.com/hooks", signing: { type: "none" } }];
    for (const durable of ["warehouse-loader", "loader-b"]) {
      const objects = await renderChart("tributary-hub", {
        setJson: {
          ...control,
          "global.tributary.durable": durable,
          "global.tributary.delivery": { enabled: true, destinations },
        },
      });
      const users = usersOf(natsConfigOf(objects));
      expect([...users.keys()]).toEqual(["admin", "aggregator", "delivery", "control"]);
      const managed = managedDeliveryPermissions(durable);
      expect(users.get("delivery")!.permissions).toEqual({
        publish: { allow: managed.publish, deny: managed.denyPublish },
        subscribe: { allow: managed.subscribe },
      });
      const api = controlPermissions();
      expect(users.get("control")!.permissions).toEqual({
        publish: { allow: api.publish },
        subscribe: { allow: api.subscribe },
      });
      expect(users.get("control")!.password).toBe("$CONTROL_PASSWORD");
      for (const u of users.values()) expect(u.allowed_connection_types).toEqual(["STANDARD"]);
    }
    // Control without the delivery process: the control user, no delivery user.
    const alone = usersOf(natsConfigOf(await renderChart("tributary-hub", { setJson: control })));
    expect([...alone.keys()]).toEqual(["admin", "aggregator", "control"]);
    const off = usersOf(
      natsConfigOf(
        await renderChart("tributary-hub", {
          setJson: { "global.tributary.delivery": { enabled: true, destinations } },
        }),
      ),
    );
    expect([...off.keys()]).toEqual(["admin", "aggregator", "delivery"]);
    expect(off.get("delivery")!.permissions!.publish.deny).toBeUndefined();
  });

  it("hub - the rendered accounts are exactly what renderHubServerConfig renders for the same inputs (several regions; control on and off; no delivery, configured destinations, managed)", async () => {
    const destinations = [
      { name: "crm", url: "https://crm.example.com/hooks", signing: { type: "none" } },
      {
        name: "partner-eu",
        url: "https://partner.example.eu/",
        sources: ["demo", "shop"],
        types: ["link.clicked"],
        signing: { type: "none" },
      },
    ];
    const regions = ["us", "eu", "ap-south"];
    const env = (name: string) => `$${name}`;
    for (const control of [false, true]) {
      for (const delivery of [undefined, destinations]) {
        const objects = await renderChart("tributary-hub", {
          setJson: {
            "global.tributary.regions": regions,
            "global.tributary.control.enabled": control,
            "control.sealingKeys.existingSecret": "seal",
            "global.tributary.delivery": { enabled: delivery !== undefined, destinations: delivery ?? [] },
          },
        });
        const code = parseNatsConf(
          renderHubServerConfig({
            storeDir: "/data",
            tls: { certFile: "/tls/tls.crt", keyFile: "/tls/tls.key" },
            leafnodeTls: { certFile: "/tls/tls.crt", keyFile: "/tls/tls.key" },
            admin: { user: "admin", password: env("ADMIN_PASSWORD") },
            aggregator: { user: "aggregator", password: env("AGGREGATOR_PASSWORD") },
            aggregatorDurable: "warehouse-loader",
            leafs: regions.map((region) => ({
              region,
              credential: {
                user: `leaf-${region}`,
                password: env(`LEAF_${region.toUpperCase().replace(/-/g, "_")}_PASSWORD`),
              },
            })),
            ...(delivery
              ? {
                  delivery: {
                    credential: { user: "delivery", password: env("DELIVERY_PASSWORD") },
                    destinations: delivery.map(
                      ({ name, sources, types }) => ({ name, sources, types }) as DeliveryScope,
                    ),
                    managed: control,
                  },
                }
              : {}),
            ...(control ? { control: { user: "control", password: env("CONTROL_PASSWORD") } } : {}),
          }),
        );
        const chart = natsConfigOf(objects);
        const what = `control ${control}, delivery ${delivery ? "on" : "off"}`;
        expect(chart.accounts, what).toEqual(code.accounts);
        expect((chart.jetstream as Record<string, unknown>).domain, what).toBe(
          (code.jetstream as Record<string, unknown>).domain,
        );
        expect(chart.max_payload, what).toBe(code.max_payload);
      }
    }
  });

  it("gateway - the rendered accounts are exactly what renderRegionServerConfig renders for the same region, with control on or off", async () => {
    for (const region of ["us", "ap-south"]) {
      const code = parseNatsConf(
        renderRegionServerConfig({
          region,
          storeDir: "/data",
          hubLeafnodeUrl: "$HUB_LEAFNODE_URL",
          tls: { certFile: "/tls/tls.crt", keyFile: "/tls/tls.key" },
          hubTls: { caFile: "/tls/ca.crt" },
          admin: { user: "admin", password: "$ADMIN_PASSWORD" },
          gateway: { user: `gateway-${region}`, password: "$GATEWAY_PASSWORD" },
          leaf: { user: `leaf-${region}`, password: "$LEAF_PASSWORD" },
        }),
      );
      for (const control of [false, true]) {
        const config = natsConfigOf(
          await renderChart("tributary-gateway", {
            setJson: {
              "global.tributary.region": region,
              "global.tributary.control.enabled": control,
              "control.sealingKeys.existingSecret": "seal",
            },
          }),
        );
        expect(config.accounts, `${region} control ${control}`).toEqual(code.accounts);
        expect((config.jetstream as Record<string, unknown>).domain).toBe(region);
      }
    }
  });

  it("streams - the provisioned stream configs equal regionalStreamConfig, hubStreamConfig and dlqStreamConfig", async () => {
    const stream = { maxBytes: 5 * 1024 ** 3, maxAgeSeconds: 3600, duplicateWindowSeconds: 120, replicas: 3 };
    const gw = await renderChart("tributary-gateway", { setJson: { "global.tributary.region": "eu", stream } });
    expect(configMapJson(gw, "-streams", "EVENTS_EU.json")).toEqual(
      regionalStreamConfig({
        region: "eu",
        maxBytes: stream.maxBytes,
        maxAgeMs: stream.maxAgeSeconds * 1000,
        duplicateWindowMs: stream.duplicateWindowSeconds * 1000,
        replicas: 3,
      }),
    );
    const defaults = await renderChart("tributary-gateway");
    expect(configMapJson(defaults, "-streams", "EVENTS_US.json")).toEqual(regionalStreamConfig({ region: "us" }));

    const hub = await renderChart("tributary-hub");
    expect(configMapJson(hub, "-streams", "EVENTS.json")).toEqual(
      hubStreamConfig({ regions: ["us", "eu"], replicas: 3 }),
    );
    expect(configMapJson(hub, "-streams", "EVENTS_DLQ.json")).toEqual(dlqStreamConfig({ replicas: 3 }));
    const hubStream = { maxBytes: 2 * 1024 ** 3, maxAgeSeconds: 86_400, duplicateWindowSeconds: 300, replicas: 1 };
    const custom = await renderChart("tributary-hub", {
      setJson: { "global.tributary.regions": ["us", "eu", "ap-south"], hubStream },
    });
    expect(configMapJson(custom, "-streams", "EVENTS.json")).toEqual(
      hubStreamConfig({
        regions: ["us", "eu", "ap-south"],
        maxBytes: hubStream.maxBytes,
        maxAgeMs: hubStream.maxAgeSeconds * 1000,
        duplicateWindowMs: hubStream.duplicateWindowSeconds * 1000,
        replicas: 1,
      }),
    );
  });

  it("streams - each region's Job creates, after its stream, the durable consumer hub-source the hub's sources read: exactly hubSourceConsumerConfig", async () => {
    for (const region of ["us", "eu", "ap-south"]) {
      const objects = await renderChart("tributary-gateway", { setJson: { "global.tributary.region": region } });
      const stream = regionalStreamName(region);
      const files = Object.keys(
        objects.find((o) => o.metadata.name.endsWith("-streams"))!.data as Record<string, string>,
      )
        .filter((k) => k.endsWith(".json"))
        .sort();
      // provision.mjs creates the streams (*.json) first, then the consumers (*.consumer.json).
      expect(files).toEqual([`${stream}.hub-source.consumer.json`, `${stream}.json`]);
      expect(configMapJson(objects, "-streams", `${stream}.hub-source.consumer.json`)).toEqual({
        stream_name: stream,
        config: hubSourceConsumerConfig(region),
      });
    }
    // The hub's sources name that consumer and its deliver subject.
    const hub = configMapJson(await renderChart("tributary-hub"), "-streams", "EVENTS.json") as {
      sources: Array<{ consumer: { name: string; deliver_subject: string } }>;
    };
    expect(hub.sources.map((s) => s.consumer)).toEqual(
      ["us", "eu"].map((region) => ({
        name: hubSourceConsumerConfig(region).durable_name,
        deliver_subject: hubSourceConsumerConfig(region).deliver_subject,
      })),
    );
  });

  it("streams - DELIVERIES is always provisioned, DELIVERY_DLQ and DELIVERY_REPLAY with delivery; all equal packages/streams' configs", async () => {
    const streamFiles = (objects: K8sObject[]) =>
      Object.keys(objects.find((o) => o.metadata.name.endsWith("-streams"))!.data as Record<string, string>).filter(
        (k) => k.endsWith(".json"),
      );
    const hub = await renderChart("tributary-hub");
    expect(streamFiles(hub).sort()).toEqual([
      "DELIVERIES.json",
      "EVENTS.json",
      "EVENTS_DLQ.json",
      "EVENTS_ENRICHED.json",
    ]);
    expect(configMapJson(hub, "-streams", "DELIVERIES.json")).toEqual(deliveriesStreamConfig({ replicas: 3 }));
    // The enriched stream takes the hub stream's limits.
    const events = configMapJson(hub, "-streams", "EVENTS.json") as { max_bytes: number; max_age: number };
    expect(configMapJson(hub, "-streams", "EVENTS_ENRICHED.json")).toEqual(
      enrichedStreamConfig({ maxBytes: events.max_bytes, maxAgeMs: events.max_age / 1e6, replicas: 3 }),
    );

    const delivery = await renderChart("tributary-hub", {
      valuesFiles: [join(chartDir("tributary-hub"), "values-delivery.yaml")],
    });
    expect(configMapJson(delivery, "-streams", "DELIVERY_DLQ.json")).toEqual(deliveryDlqStreamConfig({ replicas: 3 }));
    expect(configMapJson(delivery, "-streams", "DELIVERY_REPLAY.json")).toEqual(
      deliveryReplayStreamConfig({ replicas: 3 }),
    );
    expect(configMapJson(delivery, "-streams", "DELIVERIES.json")).toEqual(deliveriesStreamConfig({ replicas: 3 }));
    // provision.mjs applies the files in name order: DELIVERIES before EVENTS, which the aggregator
    // waits for and after which it looks for DELIVERIES once.
    const order = streamFiles(delivery).sort();
    expect(order.indexOf("DELIVERIES.json")).toBeLessThan(order.indexOf("EVENTS.json"));

    const limits = { maxBytes: 2 * 1024 ** 3, maxAgeSeconds: 86_400 };
    const custom = await renderChart("tributary-hub", {
      setJson: {
        "global.tributary.delivery.enabled": true,
        deliveryStreams: { dlq: limits, replay: limits, log: limits, replicas: 1 },
      },
    });
    const opts = { maxBytes: limits.maxBytes, maxAgeMs: limits.maxAgeSeconds * 1000, replicas: 1 };
    expect(configMapJson(custom, "-streams", "DELIVERY_DLQ.json")).toEqual(deliveryDlqStreamConfig(opts));
    expect(configMapJson(custom, "-streams", "DELIVERY_REPLAY.json")).toEqual(deliveryReplayStreamConfig(opts));
    expect(configMapJson(custom, "-streams", "DELIVERIES.json")).toEqual(deliveriesStreamConfig(opts));
  });

  it("gateway - the rendered config file is accepted by the gateway's own config loader", async () => {
    const dir = mkdtempSync(join(tmpdir(), "helm-gw-config-"));
    try {
      writeFileSync(join(dir, "demo"), "a-test-secret-of-at-least-16-bytes\n");
      const objects = await renderChart("tributary-gateway", {
        setJson: { "sources.demo.secrets": [{ id: "1", file: join(dir, "demo") }] },
      });
      const config = resolveGatewayConfig(configMapJson(objects, "-gateway", "gateway.json"), {
        TRIBUTARY_NATS_PASS: "x",
      });
      expect(config.region).toBe("us");
      expect(config.host).toBe("0.0.0.0");
      expect(config.stream.manage).toBe(false);
      expect(config.nats.user).toBe("gateway-us");
      expect([...config.sources.keys()]).toEqual(["demo"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("provisioning - both charts ship the same provisioning script", () => {
    expect(readFileSync(join(chartDir("tributary-hub"), "files", "provision.mjs"), "utf8")).toBe(
      readFileSync(join(chartDir("tributary-gateway"), "files", "provision.mjs"), "utf8"),
    );
  });
});

describe("query API tokens (hub)", () => {
  it("tokens - listed in the aggregator's config by env name, their values only from the Secret; anonymous loopback off", async () => {
    const objects = await renderChart("tributary-hub", {
      setJson: {
        queryApi: {
          existingSecret: "api-tokens",
          tokens: [
            { id: "bi-team", sources: ["*"] },
            { id: "acme", sources: ["acme"] },
          ],
        },
      },
    });
    const api = configMapJson(objects, "-aggregator", "aggregator.json").api as {
      anonymousLoopback: boolean;
      tokens: unknown[];
    };
    expect(api).toEqual({
      anonymousLoopback: false,
      tokens: [
        { id: "bi-team", env: "TRIBUTARY_API_TOKEN_BI_TEAM", sources: ["*"] },
        { id: "acme", env: "TRIBUTARY_API_TOKEN_ACME", sources: ["acme"] },
      ],
    });
    const env = podSpecOf(objects.find((o) => o.kind === "Deployment")!)!.containers[0]!.env as Array<{
      name: string;
      valueFrom?: unknown;
    }>;
    expect(env).toContainEqual({
      name: "TRIBUTARY_API_TOKEN_ACME",
      valueFrom: { secretKeyRef: { name: "api-tokens", key: "acme" } },
    });
  });

  it("operator token - from its Secret by env, never in the config", async () => {
    const objects = await renderChart("tributary-hub", { setJson: { operator: { existingSecret: "ops" } } });
    expect(configMapJson(objects, "-aggregator", "aggregator.json").operatorToken).toEqual({
      env: "TRIBUTARY_OPERATOR_TOKEN",
    });
    const env = podSpecOf(objects.find((o) => o.kind === "Deployment")!)!.containers[0]!.env as Array<{
      name: string;
      valueFrom?: unknown;
    }>;
    expect(env).toContainEqual({
      name: "TRIBUTARY_OPERATOR_TOKEN",
      valueFrom: { secretKeyRef: { name: "ops", key: "token" } },
    });
    expect(
      configMapJson(await renderChart("tributary-hub"), "-aggregator", "aggregator.json").operatorToken,
    ).toBeUndefined();
  });

  it("tokens - listed without the Secret that holds them: the render fails and says which value to set", async () => {
    await expect(
      renderChart("tributary-hub", { setJson: { queryApi: { tokens: [{ id: "acme", sources: ["acme"] }] } } }),
    ).rejects.toThrow(/queryApi.existingSecret/);
  });
});

describe("delivery (hub)", () => {
  const DELIVERY_VALUES = join(chartDir("tributary-hub"), "values-delivery.yaml");
  const SECRETS_DIR = "/var/run/tributary/destinations";
  let objects: K8sObject[];
  beforeAll(async () => {
    objects = await renderChart("tributary-hub", { valuesFiles: [DELIVERY_VALUES] });
  }, 60_000);
  const deployment = () => objects.find((o) => o.kind === "Deployment" && o.metadata.name === "tributary-delivery")!;

  it("config - the rendered delivery.json (values-delivery.yaml) passes apps/delivery's own config loader, with the secrets as the pod gets them", () => {
    const dir = mkdtempSync(join(tmpdir(), "helm-delivery-config-"));
    try {
      // The signing Secret's keys, as its volume would show them (whsec_ + base64 of 24 bytes).
      for (const key of ["crm-2026-11", "crm-2027-05"])
        writeFileSync(join(dir, key), `whsec_${Buffer.alloc(24, key).toString("base64")}\n`);
      const text = (
        objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === "tributary-delivery")!.data as Record<
          string,
          string
        >
      )["delivery.json"]!;
      const file = join(dir, "delivery.json");
      writeFileSync(file, text.replaceAll(`${SECRETS_DIR}/`, `${dir}/`));
      const loaded = loadDeliveryConfig(
        { TRIBUTARY_DELIVERY_ADMIN_TOKEN: "an-admin-token-of-some-length", TRIBUTARY_NATS_PASS: "x" },
        file,
      );
      expect(loaded.config.host).toBe("0.0.0.0");
      expect(loaded.config.port).toBe(8091);
      expect(loaded.config.manageStreams).toBe(false);
      expect(loaded.config.nats).toEqual({ servers: ["tls://tributary-nats:4222"], user: "delivery", pass: "x" });
      expect(loaded.adminToken).toBe("an-admin-token-of-some-length");
      expect(loaded.config.destinations.map((d) => d.name)).toEqual(["crm", "analytics"]);
      expect(loaded.signingKeys.get("crm")).toHaveLength(2);
      expect(loaded.signingKeys.get("analytics")).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("deployment - secrets from Secrets only, the signing Secret mounted where the config points, a grace period above the process's own 25 s deadline", () => {
    const spec = (
      deployment().spec as {
        template: { metadata: { annotations: Record<string, string> }; spec: Record<string, unknown> };
      }
    ).template;
    expect(spec.metadata.annotations["checksum/config"]).toMatch(/^[0-9a-f]{64}$/);
    const pod = spec.spec as {
      terminationGracePeriodSeconds: number;
      volumes: Array<Record<string, unknown>>;
      containers: Array<{
        env: Array<{ name: string; valueFrom?: unknown }>;
        volumeMounts: Array<{ name: string; mountPath: string }>;
      }>;
    };
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(25);
    const c = pod.containers[0]!;
    expect(c.env).toContainEqual({
      name: "TRIBUTARY_NATS_PASS",
      valueFrom: { secretKeyRef: { name: "tributary-hub-nats", key: "DELIVERY_PASSWORD" } },
    });
    expect(c.env).toContainEqual({
      name: "TRIBUTARY_DELIVERY_ADMIN_TOKEN",
      valueFrom: { secretKeyRef: { name: "tributary-delivery-admin", key: "token" } },
    });
    expect(c.volumeMounts).toContainEqual({ name: "signing-secrets", mountPath: SECRETS_DIR, readOnly: true });
    expect(pod.volumes).toContainEqual({
      name: "signing-secrets",
      secret: { secretName: "tributary-delivery-signing", defaultMode: 0o400 },
    });
  });

  it("secrets - a credential header comes from the mounted Secret (secretHeaders), never the ConfigMap; one in plain headers fails the render; unsigned destinations mount nothing", async () => {
    const enable = (dest: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
      "global.tributary.delivery": {
        enabled: true,
        destinations: [{ name: "crm", url: "https://x.example/", signing: { type: "none" }, ...dest }],
      },
      ...extra,
    });
    await expect(
      renderChart("tributary-hub", { setJson: enable({ headers: { Authorization: "Bearer sk_live_x" } }) }),
    ).rejects.toThrow(/headers.Authorization looks like a credential: move it to secretHeaders/);
    await expect(renderChart("tributary-hub", { setJson: enable({ headers: { "x-api-key": "k" } }) })).rejects.toThrow(
      /secretHeaders/,
    );
    await expect(
      renderChart("tributary-hub", {
        setJson: enable({ secretHeaders: { authorization: { file: `${SECRETS_DIR}/crm-auth` } } }),
      }),
    ).rejects.toThrow(/delivery.signingSecrets.existingSecret/);
    const rendered = await renderChart("tributary-hub", {
      setJson: enable(
        { headers: { "x-team": "growth" }, secretHeaders: { authorization: { file: `${SECRETS_DIR}/crm-auth` } } },
        { "delivery.signingSecrets.existingSecret": "crm-secrets" },
      ),
    });
    expect(configMapJson(rendered, "-delivery", "delivery.json")).toMatchObject({
      destinations: [
        { headers: { "x-team": "growth" }, secretHeaders: { authorization: { file: `${SECRETS_DIR}/crm-auth` } } },
      ],
    });
    const podOf = (list: K8sObject[]) =>
      (
        list.find((o) => o.kind === "Deployment" && o.metadata.name === "tributary-delivery")!.spec as {
          template: { spec: { volumes: Array<{ name: string }> } };
        }
      ).template.spec;
    expect(podOf(rendered).volumes.map((v) => v.name)).toContain("signing-secrets");
    const unsigned = await renderChart("tributary-hub", { setJson: enable({}) });
    expect(podOf(unsigned).volumes.map((v) => v.name)).not.toContain("signing-secrets");
  });

  it("network - the delivery pods reach NATS, DNS and their destinations' ports (any address unless destinationPeers narrows it)", async () => {
    const policyOf = (list: K8sObject[]) =>
      list.find((o) => o.kind === "NetworkPolicy" && o.metadata.name === "tributary-delivery")!.spec as {
        egress: Array<{ to?: unknown[]; ports: Array<{ port: number }> }>;
      };
    const egress = policyOf(objects).egress;
    expect(egress[0]!.ports).toEqual([{ port: 4222, protocol: "TCP" }]);
    expect(egress).toContainEqual({
      ports: [
        { port: 443, protocol: "TCP" },
        { port: 8080, protocol: "TCP" },
      ],
    });
    const peers = [{ ipBlock: { cidr: "203.0.113.0/24" } }];
    const narrowed = await renderChart("tributary-hub", {
      valuesFiles: [DELIVERY_VALUES],
      setJson: { "delivery.networkPolicy.destinationPeers": peers },
    });
    expect(policyOf(narrowed).egress).toContainEqual({
      ports: [
        { port: 443, protocol: "TCP" },
        { port: 8080, protocol: "TCP" },
      ],
      to: peers,
    });
  });

  it("wiring - the delivery config's NATS URL and its ServiceMonitor point at Services the chart renders", async () => {
    const withMonitor = await renderChart("tributary-hub", {
      valuesFiles: [DELIVERY_VALUES],
      setJson: { "serviceMonitor.enabled": true },
    });
    const monitor = withMonitor.find((o) => o.kind === "ServiceMonitor" && o.metadata.name === "tributary-delivery")!;
    const selector = (monitor.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
    const service = withMonitor.find(
      (o) =>
        o.kind === "Service" &&
        Object.entries(selector).every(([k, v]) => (o.spec as { selector: Record<string, string> }).selector[k] === v),
    )!;
    expect(service.metadata.name).toBe("tributary-delivery");
    expect((service.spec as { ports: Array<{ name: string; port: number }> }).ports).toContainEqual(
      expect.objectContaining({ name: "http", port: 8091 }),
    );
    expect(configMapJson(withMonitor, "-delivery", "delivery.json").nats).toEqual({
      servers: ["tls://tributary-nats:4222"],
      user: "delivery",
    });
  });

  it("off by default - no delivery object, no delivery user, no delivery-only stream", async () => {
    const hub = await renderChart("tributary-hub");
    expect(hub.filter((o) => o.metadata.name.includes("delivery")).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(
      [],
    );
  });

  it("schema - destinations take packages/delivery's DestinationSchema keys and patterns; a misspelt key, a bad name or a grace period within 25 s fail", async () => {
    const schema = JSON.parse(readFileSync(join(chartDir("tributary-hub"), "values.schema.json"), "utf8")) as {
      properties: {
        global: {
          properties: {
            tributary: {
              properties: {
                delivery: {
                  properties: { destinations: { items: { properties: Record<string, { pattern?: string }> } } };
                };
              };
            };
          };
        };
      };
    };
    const item =
      schema.properties.global.properties.tributary.properties.delivery.properties.destinations.items.properties;
    expect(Object.keys(item).sort()).toEqual(Object.keys(DestinationSchema.properties).sort());
    expect(item.name!.pattern).toBe(DestinationSchema.properties.name.pattern);
    expect(item.url!.pattern).toBe(DestinationSchema.properties.url.pattern);
    const enable = (destinations: unknown[]) => ({ "global.tributary.delivery": { enabled: true, destinations } });
    await expect(
      renderChart("tributary-hub", { setJson: enable([{ name: "crm", url: "https://x.example/", timeoutMS: 5 }]) }),
    ).rejects.toThrow(/Additional property timeoutMS is not allowed/);
    await expect(
      renderChart("tributary-hub", { setJson: enable([{ name: "CRM", url: "https://x.example/" }]) }),
    ).rejects.toThrow(/name/);
    await expect(
      renderChart("tributary-hub", { setJson: { ...enable([]), "delivery.terminationGracePeriodSeconds": 20 } }),
    ).rejects.toThrow(/terminationGracePeriodSeconds/);
  });

  it("required secrets - no admin token Secret, or signing files without the signing Secret: the render fails and names the value to set", async () => {
    const base = {
      "global.tributary.delivery": {
        enabled: true,
        destinations: [
          { name: "crm", url: "https://x.example/", signing: { secrets: [{ id: "1", file: `${SECRETS_DIR}/crm` }] } },
        ],
      },
    };
    await expect(
      renderChart("tributary-hub", { setJson: { ...base, "delivery.adminToken.existingSecret": "" } }),
    ).rejects.toThrow(/delivery.adminToken.existingSecret/);
    await expect(
      renderChart("tributary-hub", { setJson: { ...base, "delivery.signingSecrets.existingSecret": "" } }),
    ).rejects.toThrow(/delivery.signingSecrets.existingSecret/);
    const outside = {
      "global.tributary.delivery": {
        enabled: true,
        destinations: [
          { name: "crm", url: "https://x.example/", signing: { secrets: [{ id: "1", file: "/etc/secrets/crm" }] } },
        ],
      },
    };
    await expect(
      renderChart("tributary-hub", { setJson: { ...outside, "delivery.signingSecrets.existingSecret": "s" } }),
    ).rejects.toThrow(/outside the mounted signing Secret/);
  });
});

/** The StatefulSet of this release's NATS servers, and its pod template's labels and spec. */
function natsStatefulSet(objects: K8sObject[]) {
  const sts = objects.find((o) => o.kind === "StatefulSet")!;
  const spec = sts.spec as {
    serviceName: string;
    template: {
      metadata: { labels: Record<string, string> };
      spec: PodSpecLike & {
        automountServiceAccountToken?: boolean;
        volumes: Array<{ name: string; secret?: { secretName: string } }>;
        containers: Array<{
          name: string;
          env?: Array<{ name: string; value?: string; valueFrom?: unknown }>;
        }>;
      };
    };
  };
  return {
    name: sts.metadata.name,
    headless: spec.serviceName,
    labels: spec.template.metadata.labels,
    pod: spec.template.spec,
  };
}

function selects(policy: K8sObject, labels: Record<string, string>): boolean {
  const match = (policy.spec as { podSelector: { matchLabels: Record<string, string> } }).podSelector.matchLabels;
  return Object.entries(match).every(([k, v]) => labels[k] === v);
}

type Peer = { podSelector?: { matchLabels?: Record<string, string> }; namespaceSelector?: unknown; ipBlock?: unknown };
type IngressRule = { ports: Array<{ port: number }>; from?: Peer[] };

/** Every shipped values file of both charts, rendered. */
async function everyShippedRender(): Promise<Array<{ chart: ChartName; file: string; objects: K8sObject[] }>> {
  const all: Array<{ chart: ChartName; file: string; objects: K8sObject[] }> = [];
  for (const chart of CHARTS)
    for (const file of valuesFilesOf(chart))
      all.push({
        chart,
        file: `${chart}/${file ? file.slice(file.lastIndexOf("/") + 1) : "values.yaml"}`,
        objects: await renderChart(chart, file ? { valuesFiles: [file] } : {}),
      });
  return all;
}

describe("NATS in the charts: routes, TLS, network, least privilege", () => {
  let shipped: Array<{ chart: ChartName; file: string; objects: K8sObject[] }>;
  beforeAll(async () => {
    shipped = await everyShippedRender();
  }, 120_000);

  it("H1 - every NATS route block has credentials from the Secret and mutual TLS, in every shipped values file that clusters NATS", () => {
    const clustered = shipped.filter(({ objects }) => natsConfigOf(objects).cluster !== undefined);
    expect(clustered.map((r) => r.file).sort()).toEqual([
      "tributary-gateway/values-eu.yaml",
      "tributary-gateway/values-us.yaml",
      "tributary-hub/values-control.yaml",
      "tributary-hub/values-delivery.yaml",
      "tributary-hub/values-privacy.yaml",
      "tributary-hub/values-production.yaml",
      "tributary-hub/values.yaml",
    ]);
    for (const { file, objects } of clustered) {
      const cluster = natsConfigOf(objects).cluster as {
        authorization?: { user: string; password: string };
        routes: string[];
        tls?: Record<string, unknown>;
      };
      expect(cluster.authorization, file).toEqual({ user: "route", password: "$ROUTE_PASSWORD" });
      expect(cluster.routes, file).toEqual(["$ROUTE_URL_0", "$ROUTE_URL_1", "$ROUTE_URL_2"]);
      expect(cluster.tls, file).toEqual({
        cert_file: "/etc/nats-certs/cluster/tls.crt",
        key_file: "/etc/nats-certs/cluster/tls.key",
        ca_file: "/etc/nats-certs/cluster/ca.crt",
        verify: true,
      });
      // Each route URL carries the credentials, composed by Kubernetes from the Secret's password.
      const sts = natsStatefulSet(objects);
      const env = sts.pod.containers.find((c) => c.name === "nats")!.env!;
      const natsSecret = file.includes("gateway")
        ? `tributary-${/values-(\w+)/.exec(file)![1]}-nats`
        : "tributary-hub-nats";
      expect(
        env.find((e) => e.name === "ROUTE_PASSWORD"),
        file,
      ).toEqual({
        name: "ROUTE_PASSWORD",
        valueFrom: { secretKeyRef: { name: natsSecret, key: "ROUTE_PASSWORD" } },
      });
      for (const i of [0, 1, 2])
        expect(env.find((e) => e.name === `ROUTE_URL_${i}`)?.value, file).toBe(
          `tls://route:$(ROUTE_PASSWORD)@${sts.name}-${i}.${sts.headless}:6222`,
        );
      // The certificates come from a Secret.
      expect(sts.pod.volumes.find((v) => v.name === "cluster-tls")?.secret?.secretName, file).toMatch(/-nats-tls$/);
    }
  });

  it("H1 - a NetworkPolicy selects every NATS pod: clients only from the pods that use NATS, routes only among the NATS servers, the monitor port only from this namespace", () => {
    for (const { chart, file, objects } of shipped) {
      const { labels } = natsStatefulSet(objects);
      const policies = objects.filter((o) => o.kind === "NetworkPolicy" && selects(o, labels));
      expect(policies.length, file).toBe(1);
      const spec = policies[0]!.spec as { policyTypes: string[]; ingress: IngressRule[] };
      expect(spec.policyTypes, file).toEqual(["Ingress", "Egress"]);
      const rule = (port: number) => spec.ingress.find((r) => r.ports.some((p) => p.port === port));
      const selectorsOf = (r: IngressRule | undefined) => (r?.from ?? []).map((p) => p.podSelector?.matchLabels);
      const apps =
        chart === "tributary-gateway"
          ? [{ "app.kubernetes.io/name": "tributary-gateway", "app.kubernetes.io/instance": "tributary" }]
          : [
              { "app.kubernetes.io/name": "tributary-aggregator", "app.kubernetes.io/instance": "tributary" },
              ...(/values-(delivery|control)/.test(file)
                ? [{ "app.kubernetes.io/name": "tributary-delivery", "app.kubernetes.io/instance": "tributary" }]
                : []),
            ];
      expect(selectorsOf(rule(4222)), file).toEqual([
        ...apps,
        { "app.kubernetes.io/instance": "tributary", "app.kubernetes.io/component": "provision" },
      ]);
      if (natsConfigOf(objects).cluster)
        expect(selectorsOf(rule(6222)), file).toEqual(
          [
            {
              ...labels,
              "app.kubernetes.io/version": undefined,
              "app.kubernetes.io/managed-by": undefined,
              "helm.sh/chart": undefined,
            },
          ].map((l) => Object.fromEntries(Object.entries(l).filter(([, v]) => v !== undefined))),
        );
      else expect(rule(6222), file).toBeUndefined();
      expect(rule(8222)?.from, file).toEqual([{ podSelector: {} }]);
      // The hub's leafnode port is the regions' way in (from outside the cluster, TLS and a user each).
      if (chart === "tributary-hub") expect(rule(7422), file).toBeDefined();
      expect(spec.ingress.length, file).toBe(chart === "tributary-hub" ? 4 : natsConfigOf(objects).cluster ? 3 : 2);
    }
  });

  it("H1 - helm template fails with route TLS, route authentication, client TLS or the hub's leafnode TLS off, unless a nats.insecure value says so", async () => {
    const cases: Array<[ChartName, Record<string, unknown>, RegExp, string]> = [
      [
        "tributary-hub",
        { "nats.config.cluster.tls.enabled": false },
        /nats\.config\.cluster\.tls/,
        "allowPlaintextRoutes",
      ],
      ["tributary-hub", { "nats.routeAuth.enabled": false }, /nats\.routeAuth\.enabled/, "allowUnauthenticatedRoutes"],
      ["tributary-hub", { "nats.config.nats.tls.enabled": false }, /nats\.config\.nats\.tls/, "allowPlaintextClients"],
      [
        "tributary-hub",
        { "nats.config.leafnodes.tls.enabled": false },
        /nats\.config\.leafnodes\.tls/,
        "allowPlaintextLeafnodes",
      ],
      [
        "tributary-gateway",
        { "nats.config.cluster.enabled": true, "nats.config.cluster.tls.enabled": false },
        /nats\.config\.cluster\.tls/,
        "allowPlaintextRoutes",
      ],
      [
        "tributary-gateway",
        { "nats.config.cluster.enabled": true, "nats.routeAuth.enabled": false },
        /nats\.routeAuth\.enabled/,
        "allowUnauthenticatedRoutes",
      ],
      [
        "tributary-gateway",
        { "nats.config.nats.tls.secretName": "" },
        /nats\.config\.nats\.tls/,
        "allowPlaintextClients",
      ],
    ];
    for (const [chart, off, refusal, insecure] of cases) {
      await expect(renderChart(chart, { setJson: off }), `${chart} ${JSON.stringify(off)}`).rejects.toThrow(refusal);
      const accepted = await renderChart(chart, { setJson: { ...off, [`nats.insecure.${insecure}`]: true } });
      expect(natsConfigOf(accepted), `${chart} ${insecure}`).toBeDefined();
    }
    // Said on purpose, plaintext routes render without TLS and without credentials.
    const plain = natsConfigOf(
      await renderChart("tributary-hub", {
        setJson: {
          "nats.config.cluster.tls.enabled": false,
          "nats.routeAuth.enabled": false,
          "nats.insecure": { allowPlaintextRoutes: true, allowUnauthenticatedRoutes: true },
        },
      }),
    ).cluster as Record<string, unknown>;
    expect(plain.tls).toBeUndefined();
    expect(plain.authorization).toBeUndefined();
  });

  it("H2 - the charts' NATS client ports run TLS; the apps and the provisioning Job connect with tls:// and trust the CA of the NATS Secret", () => {
    for (const { file, objects } of shipped) {
      const tls = natsConfigOf(objects).tls as Record<string, string> | undefined;
      expect(tls?.cert_file, file).toBe("/etc/nats-certs/nats/tls.crt");
      const clients = objects.filter(
        (o) =>
          (o.kind === "Deployment" || o.kind === "Job") &&
          JSON.stringify(o).includes('TRIBUTARY_NATS_PASS"') !== (o.kind === "Job"),
      );
      expect(clients.length, file).toBeGreaterThan(1);
      for (const o of clients) {
        const pod = podSpecOf(o)! as PodSpecLike & { volumes: Array<{ name: string; secret?: unknown }> };
        expect(pod.containers[0]!.env, `${file}: ${o.metadata.name}`).toContainEqual({
          name: "NODE_EXTRA_CA_CERTS",
          value: "/etc/tributary/nats-ca/ca.crt",
        });
        expect(
          pod.volumes.find((v) => v.name === "nats-ca"),
          `${file}: ${o.metadata.name}`,
        ).toEqual({
          name: "nats-ca",
          secret: { secretName: expect.stringMatching(/-nats-tls$/), items: [{ key: "ca.crt", path: "ca.crt" }] },
        });
      }
    }
  });

  it("M12 - every NATS server the charts render takes messages of MAX_PAYLOAD_BYTES", () => {
    for (const { file, objects } of shipped) expect(natsConfigOf(objects).max_payload, file).toBe(MAX_PAYLOAD_BYTES);
  });

  it("M8 - in the charts each user reads only its own inbox, consumers are created on exact subjects (but the control bucket's and the managed delivery user's), and the delivery user reads no hub event by sequence", () => {
    for (const { file, objects } of shipped) {
      for (const u of usersOf(natsConfigOf(objects)).values()) {
        if (!u.permissions) continue;
        expect(u.permissions.subscribe.allow, `${file}: ${u.user}`).toEqual([`_INBOX_${u.user}.>`]);
        // The control bucket is read through ordered consumers nats.js names (one per watch), and
        // with control the delivery user's consumers come and go with subscriptions: those creates
        // are wildcards by design (packages/streams controlReadPermissions, managedDeliveryPermissions),
        // the managed user denied the aggregator's durable by name.
        const managed = u.user === "delivery" && u.permissions.publish.deny !== undefined;
        if (managed)
          expect(u.permissions.publish.deny, file).toContain(
            "$JS.API.CONSUMER.CREATE.EVENTS_ENRICHED.warehouse-loader.>",
          );
        const byDesign = new Set([
          ...controlReadPermissions(),
          ...(managed ? managedDeliveryPermissions("warehouse-loader").publish : []),
        ]);
        const creates = u.permissions.publish.allow.filter(
          (s) => (s.includes("CONSUMER.CREATE") || s.includes("DURABLE.CREATE")) && !byDesign.has(s),
        );
        for (const c of creates)
          expect(c, `${file}: ${u.user}`).toMatch(
            /^\$JS\.API\.CONSUMER\.(DURABLE\.)?CREATE\.[A-Z_]+\.[a-z0-9_-]+(\.(?!>$)[^.]+)*(\.>)?$/,
          );
        for (const c of creates) expect(c.endsWith(`${c.split(".")[5]}.>`), `${file}: ${c}`).toBe(false);
        if (u.user === "delivery")
          expect(
            u.permissions.publish.allow.filter((s) => /GET\.EVENTS/.test(s)),
            file,
          ).toEqual([]);
      }
    }
  });

  it("M9 - each region's hub-source sends only its region's subjects, and the hub pins every source's events to its region", () => {
    for (const { chart, file, objects } of shipped) {
      const streams = objects.find((o) => o.metadata.name.endsWith("-streams"))!.data as Record<string, string>;
      if (chart === "tributary-gateway") {
        const region = file.includes("values-eu") ? "eu" : "us";
        const consumer = JSON.parse(streams[`EVENTS_${region.toUpperCase()}.hub-source.consumer.json`]!) as {
          config: { filter_subject: string };
        };
        expect(consumer.config.filter_subject, file).toBe(`events.${region}.>`);
      } else {
        const hub = JSON.parse(streams["EVENTS.json"]!) as {
          sources: Array<{ name: string; subject_transforms: unknown }>;
        };
        for (const source of hub.sources) {
          const region = source.name.slice("EVENTS_".length).toLowerCase();
          expect(source.subject_transforms, file).toEqual([{ src: "events.*.>", dest: `events.${region}.>` }]);
        }
      }
    }
  });

  it("L9 - NATS pods mount no ServiceAccount token (nor any other pod the charts render)", () => {
    for (const { file, objects } of shipped) {
      expect(natsStatefulSet(objects).pod.automountServiceAccountToken, file).toBe(false);
      for (const o of objects) {
        const pod = podSpecOf(o) as (PodSpecLike & { automountServiceAccountToken?: boolean }) | undefined;
        if (pod) expect(pod.automountServiceAccountToken, `${file}: ${o.kind} ${o.metadata.name}`).toBe(false);
      }
    }
  });

  it("L9 - the helm test sends no real event unless helmTest.sendEvent, and then mounts only the test source's key", async () => {
    const testPod = (objects: K8sObject[]) => {
      const pod = objects.find((o) => o.kind === "Pod" && o.metadata.annotations?.["helm.sh/hook"] === "test")!;
      return pod.spec as {
        containers: Array<{ env: Array<{ name: string }> }>;
        volumes: Array<Record<string, unknown>>;
      };
    };
    const quiet = testPod(await renderChart("tributary-gateway"));
    expect(quiet.containers[0]!.env.map((e) => e.name)).toEqual(["GATEWAY_URL"]);
    expect(quiet.volumes.map((v) => v.name)).toEqual(["test"]);
    const sending = testPod(
      await renderChart("tributary-gateway", {
        setJson: { "helmTest.sendEvent": true, "helmTest.secretKey": "tests" },
      }),
    );
    expect(sending.containers[0]!.env.map((e) => e.name)).toEqual(["GATEWAY_URL", "SOURCE", "SIGNING_KEY_FILE"]);
    expect(sending.volumes).toContainEqual({
      name: "source-secrets",
      secret: { secretName: "tributary-sources", items: [{ key: "tests", path: "tests" }], defaultMode: 0o400 },
    });
  });

  it("L9 - a destination URL or header that carries a credential fails the render instead of landing in the ConfigMap", async () => {
    const render = (dest: Record<string, unknown>) =>
      renderChart("tributary-hub", {
        setJson: {
          "global.tributary.delivery": {
            enabled: true,
            destinations: [{ name: "crm", url: "https://x.example/", signing: { type: "none" }, ...dest }],
          },
        },
      });
    await expect(render({ url: "https://user:s3cret@x.example/hook" })).rejects.toThrow(/carries a user or password/);
    for (const url of [
      "https://x.example/hook?api_key=abc",
      "https://x.example/hook?a=1&token=abc",
      "https://x.example/?sig=x",
    ])
      await expect(render({ url }), url).rejects.toThrow(/query looks like it carries a credential/);
    for (const header of ["X-Auth", "X-Access-Key", "X-Session-Id"])
      await expect(render({ headers: { [header]: "v" } }), header).rejects.toThrow(/secretHeaders/);
    // Plain query parameters and header names pass.
    const ok = await render({ url: "https://x.example/hook?design=blue&monkey=1", headers: { "x-team": "growth" } });
    expect(configMapJson(ok, "-delivery", "delivery.json").destinations).toMatchObject([
      { url: "https://x.example/hook?design=blue&monkey=1" },
    ]);
  });

  it("provisioning - the hub's Job moves each destination's existing consumer to its current filters (and creates none)", async () => {
    const objects = await renderChart("tributary-hub", {
      setJson: {
        "global.tributary.delivery": {
          enabled: true,
          destinations: [
            {
              name: "crm",
              url: "https://x.example/",
              sources: ["demo"],
              types: ["link.clicked"],
              signing: { type: "none" },
            },
            { name: "bi", url: "https://y.example/", sources: ["a", "b"], signing: { type: "none" } },
          ],
        },
      },
    });
    const filtersOf = (sources: string[], types: string[]) => {
      const c = deliveryConsumerConfig({
        destination: "x",
        filterSubjects: deliveryFilterSubjects(sources, types),
        maxAckPending: 1,
        ackWaitMs: 1,
      });
      return { filter_subject: c.filter_subject, filter_subjects: c.filter_subjects };
    };
    for (const [name, sources, types] of [
      ["crm", ["demo"], ["link.clicked"]],
      ["bi", ["a", "b"], []],
    ] as const) {
      const file = configMapJson(objects, "-streams", `EVENTS_ENRICHED.delivery-${name}.consumer.json`) as {
        config: Record<string, unknown>;
      };
      const wanted = Object.fromEntries(
        Object.entries(filtersOf([...sources], [...types])).filter(([, v]) => v !== undefined),
      );
      expect(file).toEqual({
        stream_name: "EVENTS_ENRICHED",
        config: { durable_name: `delivery-${name}`, ...wanted },
        update: ["filter_subject", "filter_subjects"],
        create: false,
      });
    }
  });
});

describe("control plane", () => {
  const CONTROL = {
    "global.tributary.control.enabled": true,
    "control.sealingKeys.existingSecret": "tributary-control-sealing",
  };
  const CONTROL_VALUES = join(chartDir("tributary-hub"), "values-control.yaml");
  const envOf = (objects: K8sObject[], name: string) =>
    podSpecOf(objects.find((o) => o.kind === "Deployment" && o.metadata.name === name)!)!.containers[0]!.env as Array<{
      name: string;
      value?: string;
      valueFrom?: unknown;
    }>;
  const streamFiles = (objects: K8sObject[]) =>
    Object.keys(objects.find((o) => o.metadata.name.endsWith("-streams"))!.data as Record<string, string>)
      .filter((k) => k.endsWith(".json"))
      .sort();

  it("streams - the hub's Job creates the bucket's stream exactly as ControlStore.hub asks nats-server for it (@nats-io/kv) and CONTROL_AUDIT as auditStreamConfig", async () => {
    const { ControlStore } = await loadControl();
    for (const replicas of [3, 1]) {
      const objects = await renderChart("tributary-hub", { setJson: { ...CONTROL, "control.replicas": replicas } });
      expect(configMapJson(objects, "-streams", `${CONTROL_KV_STREAM}.json`)).toEqual(
        await requestedStreamConfig((js) => ControlStore.hub(js, { replicas })),
      );
      expect(configMapJson(objects, "-streams", "CONTROL_AUDIT.json")).toEqual(
        JSON.parse(JSON.stringify(auditStreamConfig({ replicas }))),
      );
    }
  });

  it("streams - each region's Job creates its mirror of the bucket exactly as ControlStore.regionMirror asks nats-server for it: read through the hub domain, delivered to the region's own prefix", async () => {
    const { ControlStore } = await loadControl();
    for (const [region, replicas] of [
      ["us", 1],
      ["eu", 3],
      ["ap-south", 1],
    ] as const) {
      const objects = await renderChart("tributary-gateway", {
        setJson: { ...CONTROL, "global.tributary.region": region, "stream.replicas": replicas },
      });
      const mirror = configMapJson(objects, "-streams", `${CONTROL_KV_STREAM}.json`);
      expect(mirror).toEqual(await requestedStreamConfig((js) => ControlStore.regionMirror(js, region, { replicas })));
      expect(mirror.mirror).toEqual({
        name: CONTROL_KV_STREAM,
        external: { api: "$JS.hub.API", deliver: `deliver.control.${region}` },
      });
      // The prefix is the one the hub exports to this region's link account alone.
      expect(controlMirrorExports(region).streams).toEqual([`deliver.control.${region}.>`]);
      const stream = regionalStreamName(region);
      expect(streamFiles(objects)).toEqual([
        `${stream}.hub-source.consumer.json`,
        `${stream}.json`,
        "KV_tributary_control.json",
      ]);
    }
  });

  it("off by default - no control user, stream, env or config in either chart (the NATS configs still carry the mirror exports and permissions, as the code renders them)", async () => {
    const hub = await renderChart("tributary-hub", {
      valuesFiles: [join(chartDir("tributary-hub"), "values-delivery.yaml")],
    });
    const gateway = await renderChart("tributary-gateway");
    expect(usersOf(natsConfigOf(hub)).has("control")).toBe(false);
    expect(streamFiles(hub)).not.toContain("KV_tributary_control.json");
    expect(streamFiles(hub)).not.toContain("CONTROL_AUDIT.json");
    expect(streamFiles(gateway)).not.toContain("KV_tributary_control.json");
    expect(configMapJson(hub, "-aggregator", "aggregator.json").control).toBeUndefined();
    expect(configMapJson(hub, "-delivery", "delivery.json").control).toBeUndefined();
    expect(configMapJson(gateway, "-gateway", "gateway.json").control).toBeUndefined();
    const text = JSON.stringify([...hub, ...gateway].filter((o) => o.kind === "Deployment"));
    expect(text).not.toMatch(/SEALING|CONTROL_NATS_PASS|CONTROL_PASSWORD/);
    expect(accountsOf(natsConfigOf(hub))[ACCOUNT]!.exports).toHaveLength(6);
    expect(usersOf(natsConfigOf(gateway)).get("gateway-us")!.permissions!.publish.allow).toEqual(
      expect.arrayContaining(controlReadPermissions()),
    );
  });

  it("aggregator - with control, its config passes apps/aggregator's own loader with the env the Deployment gives it: the management API as user control, the sealing keys, the token scopes", async () => {
    const objects = await renderChart("tributary-hub", {
      valuesFiles: [CONTROL_VALUES],
      setJson: { "control.allowPrivate": ["10.0.0.0/8"] },
    });
    const env = envOf(objects, "tributary-aggregator");
    expect(env).toContainEqual({
      name: "TRIBUTARY_CONTROL_NATS_PASS",
      valueFrom: { secretKeyRef: { name: "tributary-hub-nats", key: "CONTROL_PASSWORD" } },
    });
    expect(env).toContainEqual({
      name: "TRIBUTARY_SEALING_KEYS",
      valueFrom: { secretKeyRef: { name: "tributary-control-sealing", key: "keys" } },
    });
    const dir = mkdtempSync(join(tmpdir(), "helm-aggregator-config-"));
    try {
      const file = join(dir, "aggregator.json");
      writeFileSync(
        file,
        (
          objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === "tributary-aggregator")!.data as Record<
            string,
            string
          >
        )["aggregator.json"]!,
      );
      // What the Secrets hold, under the env names the Deployment sets.
      const values: Record<string, string> = {
        TRIBUTARY_NATS_PASS: "x",
        TRIBUTARY_CONTROL_NATS_PASS: "control-pw",
        TRIBUTARY_SEALING_KEYS: `k1:${Buffer.alloc(32, 1).toString("base64")}`,
      };
      for (const e of env)
        if (e.name.startsWith("TRIBUTARY_API_TOKEN_")) values[e.name] = `token-of-${e.name.toLowerCase()}`;
      const settings = loadAggregatorSettings(values, file);
      expect(settings.config.control).toEqual({
        enabled: true,
        user: "control",
        allowPrivate: ["10.0.0.0/8"],
        lastUseEverySeconds: 15,
      });
      expect(settings.control?.user).toBe("control");
      expect(settings.control?.pass).toBe("control-pw");
      expect(settings.tokens.map((t) => [t.id, t.scope])).toEqual([
        ["ops", "admin"],
        ["deploys", "write"],
        ["bi-team", "read"],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("delivery - with control, its config passes apps/delivery's own loader: control on, the subscriptions' non-public addresses allowed, the sealing keys from their Secret", async () => {
    const objects = await renderChart("tributary-hub", {
      valuesFiles: [CONTROL_VALUES],
      setJson: { "control.allowPrivate": ["10.0.0.0/8"] },
    });
    expect(envOf(objects, "tributary-delivery")).toContainEqual({
      name: "TRIBUTARY_SEALING_KEYS",
      valueFrom: { secretKeyRef: { name: "tributary-control-sealing", key: "keys" } },
    });
    const dir = mkdtempSync(join(tmpdir(), "helm-delivery-control-"));
    try {
      const file = join(dir, "delivery.json");
      writeFileSync(
        file,
        (
          objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === "tributary-delivery")!.data as Record<
            string,
            string
          >
        )["delivery.json"]!,
      );
      const loaded = loadDeliveryConfig(
        { TRIBUTARY_DELIVERY_ADMIN_TOKEN: "an-admin-token-of-some-length", TRIBUTARY_NATS_PASS: "x" },
        file,
      );
      expect((loaded.config as { control?: unknown }).control).toEqual({ enabled: true });
      expect(loaded.config.allowPrivate).toEqual(["10.0.0.0/8"]);
      expect(loaded.config.destinations).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("gateway - with control, its config passes apps/gateway's loader without any source of its own, and the gateway gets the sealing keys from their Secret", async () => {
    const objects = await renderChart("tributary-gateway", { setJson: { ...CONTROL, sources: { demo: null } } });
    const config = resolveGatewayConfig(configMapJson(objects, "-gateway", "gateway.json"), {
      TRIBUTARY_NATS_PASS: "x",
    });
    expect(config.control).toEqual({ enabled: true });
    expect(config.sources.size).toBe(0);
    expect(envOf(objects, "tributary-gateway")).toContainEqual({
      name: "TRIBUTARY_SEALING_KEYS",
      valueFrom: { secretKeyRef: { name: "tributary-control-sealing", key: "keys" } },
    });
    await expect(renderChart("tributary-gateway", { setJson: { sources: { demo: null } } })).rejects.toThrow(
      /sources is empty: .*global.tributary.control.enabled/,
    );
  });

  it("helm, kubernetes - the gateway chart with control on passes `helm lint --strict` and every object validates against the Kubernetes schemas (the hub's: values-control.yaml above)", async () => {
    for (const region of ["us", "eu"]) {
      const valuesFiles = [join(chartDir("tributary-gateway"), `values-${region}.yaml`)];
      expect(await lintChart("tributary-gateway", { valuesFiles, setJson: CONTROL })).toContain("0 chart(s) failed");
      for (const o of await renderChart("tributary-gateway", { valuesFiles, setJson: CONTROL })) {
        const key = `${o.apiVersion}/${o.kind}`;
        if (key === "monitoring.coreos.com/v1/ServiceMonitor") continue;
        expect(() => new MODELS[key]!(o as never).validate(), `${key} ${o.metadata.name}`).not.toThrow();
      }
    }
  });

  it("required secrets - control without the sealing keys' Secret fails the render of either chart and names the value to set", async () => {
    for (const chart of CHARTS)
      await expect(
        renderChart(chart, { setJson: { "global.tributary.control.enabled": true } }),
        chart,
      ).rejects.toThrow(/control.sealingKeys.existingSecret/);
  });

  it("schema - a token scope other than read, write or admin fails", async () => {
    await expect(
      renderChart("tributary-hub", {
        setJson: { queryApi: { existingSecret: "t", tokens: [{ id: "a", sources: ["*"], scope: "owner" }] } },
      }),
    ).rejects.toThrow(/scope/);
  });

  it("network - with control, the delivery process and the aggregator's test sends reach the subscriptions' ports (control.subscriptionPorts), narrowed by delivery.networkPolicy.destinationPeers", async () => {
    const peers = [{ ipBlock: { cidr: "203.0.113.0/24" } }];
    const objects = await renderChart("tributary-hub", {
      valuesFiles: [CONTROL_VALUES],
      setJson: { "control.subscriptionPorts": [443, 8443], "delivery.networkPolicy.destinationPeers": peers },
    });
    const egressOf = (name: string) =>
      (objects.find((o) => o.kind === "NetworkPolicy" && o.metadata.name === name)!.spec as { egress: unknown[] })
        .egress;
    const rule = {
      ports: [
        { port: 443, protocol: "TCP" },
        { port: 8443, protocol: "TCP" },
      ],
      to: peers,
    };
    expect(egressOf("tributary-delivery")).toContainEqual(rule);
    expect(egressOf("tributary-aggregator")).toContainEqual(rule);
    const off = await renderChart("tributary-hub");
    expect(
      (
        off.find((o) => o.kind === "NetworkPolicy" && o.metadata.name === "tributary-aggregator")!.spec as {
          egress: unknown[];
        }
      ).egress,
    ).toHaveLength(2);
  });
});

describe("enrichment and privacy (hub)", () => {
  it("one aggregator, also during an update: its enrich stage decides the stateful verdicts in stream order; a second replica fails lint and template", async () => {
    const deployment = (await renderChart("tributary-hub")).find(
      (o) => o.kind === "Deployment" && o.metadata.name.endsWith("-aggregator"),
    ) as { spec: { replicas: number; strategy: { type: string } } } | undefined;
    expect(deployment?.spec).toMatchObject({ replicas: 1, strategy: { type: "Recreate" } });
    const setJson = { "aggregator.replicaCount": 2 };
    await expect(renderChart("tributary-hub", { setJson })).rejects.toThrow(/aggregator\.replicaCount/);
    await expect(lintChart("tributary-hub", { setJson })).rejects.toBeInstanceOf(HelmError);
  });

  const PRIVACY_VALUES = join(chartDir("tributary-hub"), "values-privacy.yaml");
  const HUB_SCHEMA = JSON.parse(readFileSync(join(chartDir("tributary-hub"), "values.schema.json"), "utf8")) as {
    properties: { aggregator: { properties: { enrich: JsonSchema } } };
  };
  const chartEnrich = HUB_SCHEMA.properties.aggregator.properties.enrich as {
    required: string[];
    additionalProperties: boolean;
    properties: Record<string, JsonSchema>;
  };
  const aggregatorEnrich = withoutDefaults(AggregatorConfigSchema.properties.enrich) as {
    required: string[];
    properties: Record<string, JsonSchema>;
  };
  interface EnvVar {
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef?: { name: string; key: string } };
  }
  interface Mount {
    name: string;
    mountPath: string;
    readOnly?: boolean;
    subPath?: string;
  }
  interface Volume {
    name: string;
    configMap?: { name: string; items?: Array<{ key: string; path: string }> };
    secret?: { secretName: string; defaultMode?: number; items?: Array<{ key: string; path: string }> };
    persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
  }
  const aggregatorPod = (objects: K8sObject[]) => {
    const d = objects.find((o) => o.kind === "Deployment" && o.metadata.name === "tributary-aggregator")!;
    const pod = (d.spec as { template: { spec: { containers: Array<{ env: EnvVar[]; volumeMounts: Mount[] }> } } })
      .template.spec as { containers: Array<{ env: EnvVar[]; volumeMounts: Mount[] }>; volumes: Volume[] };
    return { env: pod.containers[0]!.env, mounts: pod.containers[0]!.volumeMounts, volumes: pod.volumes };
  };
  const configText = (objects: K8sObject[]) =>
    (
      objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === "tributary-aggregator")!.data as Record<
        string,
        string
      >
    )["aggregator.json"]!;
  const enrichOf = (objects: K8sObject[]) =>
    (JSON.parse(configText(objects)) as { enrich: Record<string, unknown> }).enrich;

  it("schema - aggregator.enrich in values.schema.json is the aggregator's EnrichConfigSchema (generated, `deploy-helm schema`): same keys, the secret and file keys as Kubernetes sources, every other key's schema exactly the aggregator's, the unique rule narrowed to UNIQUE_RULES", async () => {
    const { UNIQUE_RULES } = await loadEnrich();
    expect(chartEnrich).toEqual(
      enrichValuesSchema(AggregatorConfigSchema.properties.enrich, Object.keys(UNIQUE_RULES)),
    );
    // Spelled out, so a key added to (or dropped from) the aggregator fails here by name.
    const expectedKeys = [
      ...new Set(Object.keys(aggregatorEnrich.properties).map((k) => ENRICH_CHART_KEYS[k] ?? k)),
    ].sort();
    expect(Object.keys(chartEnrich.properties).sort()).toEqual(expectedKeys);
    expect(expectedKeys).toEqual(
      [
        "enabled",
        "geoDatabase",
        "ipMode",
        "hashKey",
        "saltRotationSeconds",
        "campaignFile",
        "internalDomains",
        "uniqueRule",
        "suspicious",
        "redact",
        "payload",
        "prefer",
        "fields",
        "sources",
        "maxKeys",
      ].sort(),
    );
    for (const [key, schema] of Object.entries(aggregatorEnrich.properties)) {
      if (ENRICH_CHART_KEYS[key] !== undefined) continue;
      if (key === "uniqueRule") {
        expect(chartEnrich.properties[key]).toEqual({ ...schema, enum: Object.keys(UNIQUE_RULES) });
        continue;
      }
      expect(chartEnrich.properties[key], key).toEqual(schema);
    }
    expect(chartEnrich.required).toEqual(aggregatorEnrich.required);
    expect(chartEnrich.additionalProperties).toBe(false);
    expect(chartEnrich.properties.ipMode!.enum).toEqual(["truncate", "hash", "drop"]);
    expect(chartEnrich.properties.payload!.enum).toEqual(["reduced", "raw"]);
    expect(chartEnrich.properties.prefer!.enum).toEqual(["sender", "derived"]);
    const perSource = Object.values(
      chartEnrich.properties.sources!.patternProperties as Record<string, JsonSchema>,
    )[0]!;
    expect(perSource.additionalProperties).toBe(false);
    expect(Object.keys(perSource.properties as object).sort()).toEqual(["fields", "payload", "redact"]);
  });

  it("defaults - values.yaml renders the aggregator's own enrich defaults (privacy on: ipMode truncate, payload reduced), its suspicion rules spelled out as DEFAULT_SUSPICION_RULES; nothing mounted, no key", async () => {
    const { DEFAULT_SUSPICION_RULES, DEFAULT_SALT_ROTATION_SECONDS } = await loadEnrich();
    const objects = await renderChart("tributary-hub");
    const rendered = JSON.parse(configText(objects)) as Record<string, unknown>;
    const dir = mkdtempSync(join(tmpdir(), "helm-enrich-defaults-"));
    try {
      const write = (name: string, config: Record<string, unknown>) => {
        writeFileSync(join(dir, name), JSON.stringify(config));
        return join(dir, name);
      };
      const env = { TRIBUTARY_NATS_PASS: "x" };
      const ours = loadAggregatorConfig(env, write("ours.json", rendered)).enrich;
      const { enrich: _omitted, ...withoutEnrich } = rendered;
      const theirs = loadAggregatorConfig(env, write("theirs.json", withoutEnrich)).enrich;
      expect(ours).toEqual({ ...theirs, suspicious: DEFAULT_SUSPICION_RULES });
      expect(ours).toMatchObject({
        enabled: true,
        ipMode: "truncate",
        payload: "reduced",
        prefer: "sender",
        saltRotationSeconds: DEFAULT_SALT_ROTATION_SECONDS,
      });
      expect(ours.hashKeyEnv ?? ours.hashKeyFile ?? ours.geoDatabase ?? ours.campaignFile).toBeUndefined();
      // The settings load (bundled geo database, no key needed) and build the enricher.
      expect(loadAggregatorSettings(env, join(dir, "ours.json")).enricher).toBeDefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const { env, mounts } = aggregatorPod(objects);
    expect(env.map((e) => e.name)).not.toContain("TRIBUTARY_ENRICH_HASH_KEY");
    expect(mounts.filter((m) => m.name.startsWith("enrich-"))).toEqual([]);
  });

  it("values-privacy.yaml - hashed IPs with the key from its Secret by env, the geo database from a volume and the campaign file from a ConfigMap mounted read-only where the config points, a hashed redaction, a per-source raw opt-in; the config passes the aggregator's own loader", async () => {
    const { bundledGeoDatabasePath } = await loadEnrich();
    const objects = await renderChart("tributary-hub", { valuesFiles: [PRIVACY_VALUES] });
    const enrich = enrichOf(objects);
    const DIR = "/var/run/tributary/enrich";
    expect(enrich).toEqual({
      enabled: true,
      ipMode: "hash",
      hashKeyEnv: "TRIBUTARY_ENRICH_HASH_KEY",
      saltRotationSeconds: 86_400,
      geoDatabase: `${DIR}/geo/GeoIP2-City.mmdb`,
      campaignFile: `${DIR}/campaigns/campaigns.json`,
      internalDomains: ["example.com", "example.net"],
      uniqueRule: "per_link_24h",
      suspicious: [{ rule: "bot" }, { rule: "missing_user_agent" }, { rule: "burst", maxPerMinute: 30 }],
      redact: [{ path: "data.email", action: "hash" }],
      payload: "reduced",
      prefer: "sender",
      sources: {
        "partner-crm": {
          payload: "raw",
          redact: [{ path: "data.phone", action: "drop" }],
          fields: { ip: ["data.client.ip", "data.ip"] },
        },
      },
      maxKeys: 1_000_000,
    });
    const { env, mounts, volumes } = aggregatorPod(objects);
    expect(env).toContainEqual({
      name: "TRIBUTARY_ENRICH_HASH_KEY",
      valueFrom: { secretKeyRef: { name: "tributary-enrich-hash-key", key: "key" } },
    });
    expect(mounts).toContainEqual({ name: "enrich-geo", mountPath: `${DIR}/geo`, readOnly: true });
    expect(mounts).toContainEqual({ name: "enrich-campaigns", mountPath: `${DIR}/campaigns`, readOnly: true });
    expect(volumes).toContainEqual({
      name: "enrich-geo",
      persistentVolumeClaim: { claimName: "tributary-geoip", readOnly: true },
    });
    // The whole ConfigMap key, not a subPath: an edited ConfigMap reaches the pod and is re-read.
    expect(volumes).toContainEqual({
      name: "enrich-campaigns",
      configMap: { name: "tributary-campaigns", items: [{ key: "campaigns.json", path: "campaigns.json" }] },
    });
    expect(mounts.some((m) => m.subPath !== undefined)).toBe(false);
    expect(mounts.filter((m) => m.name.startsWith("enrich-")).every((m) => m.readOnly === true)).toBe(true);
    expect(volumes.some((v) => v.name === "enrich-hash-key")).toBe(false);

    // The aggregator's loader, with the mounts as files (each mount path moved to a temp dir) and the
    // env the Deployment gives it.
    const dir = mkdtempSync(join(tmpdir(), "helm-enrich-privacy-"));
    try {
      let text = configText(objects);
      for (const m of mounts.filter((x) => x.name.startsWith("enrich-"))) {
        mkdirSync(join(dir, m.name));
        text = text.split(`${m.mountPath}/`).join(`${join(dir, m.name)}/`);
      }
      copyFileSync(bundledGeoDatabasePath(), join(dir, "enrich-geo", "GeoIP2-City.mmdb"));
      writeFileSync(join(dir, "enrich-campaigns", "campaigns.json"), JSON.stringify({ spring: { name: "Spring" } }));
      writeFileSync(join(dir, "aggregator.json"), text);
      const key = "0123456789abcdef0123456789abcdef";
      const settings = loadAggregatorSettings(
        { TRIBUTARY_NATS_PASS: "x", TRIBUTARY_ENRICH_HASH_KEY: key },
        join(dir, "aggregator.json"),
      );
      const portable = settings.enricher!.portable() as unknown as {
        ip: { mode: string; hashKey: string };
        geoDatabase: string;
        campaigns: { file: string };
        payload: string;
        sources: Record<string, { payload?: string }>;
        redact: unknown[];
      };
      expect(portable.ip).toMatchObject({ mode: "hash", hashKey: key });
      expect(portable.geoDatabase).toBe(join(dir, "enrich-geo", "GeoIP2-City.mmdb"));
      expect(portable.campaigns.file).toBe(join(dir, "enrich-campaigns", "campaigns.json"));
      expect(portable.payload).toBe("reduced");
      expect(portable.sources["partner-crm"]!.payload).toBe("raw");
      expect(portable.redact).toEqual([{ path: "data.email", action: "hash" }]);
      // Without the Secret's value the aggregator refuses to start, as the chart's fail says.
      expect(() => loadAggregatorSettings({ TRIBUTARY_NATS_PASS: "x" }, join(dir, "aggregator.json"))).toThrow(/hash/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("hash key as a file - hashKey.from file mounts only that key of the Secret read-only (mode 0400) and the config names it as hashKeyFile; no env var", async () => {
    const objects = await renderChart("tributary-hub", {
      setJson: {
        "aggregator.enrich.ipMode": "hash",
        "aggregator.enrich.hashKey": { existingSecret: "ip-key", key: "hmac", from: "file" },
        "aggregator.enrich.geoDatabase": { secret: "geoip2", file: "GeoIP2-Country.mmdb" },
      },
    });
    const enrich = enrichOf(objects);
    expect(enrich.hashKeyFile).toBe("/var/run/tributary/enrich/hash-key/hmac");
    expect(enrich.hashKeyEnv).toBeUndefined();
    expect(enrich.geoDatabase).toBe("/var/run/tributary/enrich/geo/GeoIP2-Country.mmdb");
    const { env, mounts, volumes } = aggregatorPod(objects);
    expect(env.map((e) => e.name)).not.toContain("TRIBUTARY_ENRICH_HASH_KEY");
    expect(mounts).toContainEqual({
      name: "enrich-hash-key",
      mountPath: "/var/run/tributary/enrich/hash-key",
      readOnly: true,
    });
    expect(volumes).toContainEqual({
      name: "enrich-hash-key",
      secret: { secretName: "ip-key", defaultMode: 0o400, items: [{ key: "hmac", path: "hmac" }] },
    });
    expect(volumes).toContainEqual({
      name: "enrich-geo",
      secret: { secretName: "geoip2", items: [{ key: "GeoIP2-Country.mmdb", path: "GeoIP2-Country.mmdb" }] },
    });
  });

  it("off - enabled false renders enrich {enabled: false} and mounts or reads nothing, even with a key and files named", async () => {
    const objects = await renderChart("tributary-hub", {
      valuesFiles: [PRIVACY_VALUES],
      setJson: { "aggregator.enrich.enabled": false },
    });
    expect(enrichOf(objects)).toEqual({ enabled: false });
    const { env, mounts, volumes } = aggregatorPod(objects);
    expect(env.map((e) => e.name)).not.toContain("TRIBUTARY_ENRICH_HASH_KEY");
    expect([...mounts, ...volumes].filter((m) => m.name.startsWith("enrich-"))).toEqual([]);
  });

  it("schema - a wrong ipMode, payload, prefer, unique rule, suspicion rule, minimum or an unknown key under enrich (or under a source) fails lint and template with the schema's message", async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [
        { "aggregator.enrich.ipMode": "weird" },
        /aggregator\.enrich\.ipMode must be one of the following: "truncate", "hash", "drop"/,
      ],
      [
        { "aggregator.enrich.payload": "open" },
        /aggregator\.enrich\.payload must be one of the following: "reduced", "raw"/,
      ],
      [{ "aggregator.enrich.colour": "blue" }, /aggregator\.enrich: Additional property colour is not allowed/],
      [{ "aggregator.enrich.prefer": "mine" }, /aggregator\.enrich\.prefer must be one of the following/],
      [{ "aggregator.enrich.uniqueRule": "per_week" }, /aggregator\.enrich\.uniqueRule must be one of the following/],
      [
        { "aggregator.enrich.saltRotationSeconds": 59 },
        /aggregator\.enrich\.saltRotationSeconds: Must be greater than or equal to 60/,
      ],
      [{ "aggregator.enrich.maxKeys": 999 }, /aggregator\.enrich\.maxKeys: Must be greater than or equal to 1000/],
      [
        { "aggregator.enrich.sources": { acme: { payload: "open" } } },
        /aggregator\.enrich\.sources\.acme\.payload must be one of/,
      ],
      [{ "aggregator.enrich.sources": { acme: { ipMode: "drop" } } }, /Additional property ipMode is not allowed/],
      [
        { "aggregator.enrich.redact": [{ path: "data.ip", action: "mask" }] },
        /aggregator\.enrich\.redact\.0\.action must be one of/,
      ],
      [{ "aggregator.enrich.suspicious": [{ rule: "burst" }] }, /aggregator\.enrich\.suspicious\.0/],
      [{ "aggregator.enrich.fields": { ipAddress: ["data.ip"] } }, /Additional property ipAddress is not allowed/],
      [
        { "aggregator.enrich.hashKey": { existingSecret: "k", from: "vault" } },
        /aggregator\.enrich\.hashKey\.from must be one of/,
      ],
      [
        { "aggregator.enrich.geoDatabase": { file: "../etc/passwd" } },
        /aggregator\.enrich\.geoDatabase\.file: Does not match pattern/,
      ],
    ];
    for (const [setJson, message] of cases) {
      await expect(renderChart("tributary-hub", { setJson }), JSON.stringify(setJson)).rejects.toThrow(message);
      await expect(lintChart("tributary-hub", { setJson }), JSON.stringify(setJson)).rejects.toBeInstanceOf(HelmError);
    }
  });

  it("required secrets - ipMode hash or a hashing redaction without hashKey.existingSecret fails the render and names the value to set; so does a file with two sources", async () => {
    const KEY = /set aggregator\.enrich\.hashKey\.existingSecret/;
    await expect(renderChart("tributary-hub", { setJson: { "aggregator.enrich.ipMode": "hash" } })).rejects.toThrow(
      /aggregator\.enrich\.ipMode is hash but no HMAC key is set: set aggregator\.enrich\.hashKey\.existingSecret/,
    );
    await expect(
      renderChart("tributary-hub", {
        setJson: { "aggregator.enrich.redact": [{ path: "data.email", action: "hash" }] },
      }),
    ).rejects.toThrow(KEY);
    await expect(
      renderChart("tributary-hub", {
        setJson: { "aggregator.enrich.sources": { acme: { redact: [{ path: "data.email", action: "hash" }] } } },
      }),
    ).rejects.toThrow(/aggregator\.enrich\.sources\.acme\.redact\[0\] hashes data\.email .*hashKey\.existingSecret/);
    await expect(
      renderChart("tributary-hub", {
        setJson: { "aggregator.enrich.campaignFile": { configMap: "a", secret: "b" } },
      }),
    ).rejects.toThrow(/aggregator\.enrich\.campaignFile sets configMap and secret: set only one/);
    // With the key, or with enrichment off, the same values render.
    await renderChart("tributary-hub", {
      setJson: { "aggregator.enrich.ipMode": "hash", "aggregator.enrich.hashKey.existingSecret": "ip-key" },
    });
    await renderChart("tributary-hub", {
      setJson: { "aggregator.enrich.ipMode": "hash", "aggregator.enrich.enabled": false },
    });
  });
});

describe("data retention (hub)", () => {
  const HUB_SCHEMA = JSON.parse(readFileSync(join(chartDir("tributary-hub"), "values.schema.json"), "utf8")) as {
    properties: { aggregator: { properties: { retention: JsonSchema } } };
  };
  const DURATION = "^(forever|[1-9][0-9]{0,5}[smhd])$";
  const DEFAULTS = { events: "90d", deliveries: "30d", rollups: "730d", everySeconds: 3600 };
  const ENV = { TRIBUTARY_NATS_PASS: "x" };
  const aggregatorJson = (objects: K8sObject[]) => configMapJson(objects, "-aggregator", "aggregator.json");
  /** apps/aggregator's own loader on a config file as the pod reads it. */
  const load = (config: Record<string, unknown>) => {
    const dir = mkdtempSync(join(tmpdir(), "helm-retention-"));
    try {
      writeFileSync(join(dir, "aggregator.json"), JSON.stringify(config));
      return loadAggregatorConfig(ENV, join(dir, "aggregator.json"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const checksumOf = (objects: K8sObject[]) =>
    (
      objects.find((o) => o.kind === "Deployment" && o.metadata.name === "tributary-aggregator")!.spec as {
        template: { metadata: { annotations: Record<string, string> } };
      }
    ).template.metadata.annotations["checksum/config"];

  it("schema - aggregator.retention in values.schema.json is the aggregator's RetentionConfigSchema without its defaults (values.yaml holds them): the duration pattern, everySeconds an integer of at least 1, no other key", () => {
    const { description, ...chart } = HUB_SCHEMA.properties.aggregator.properties.retention;
    expect(chart).toEqual(withoutDefaults(AggregatorConfigSchema.properties.retention));
    expect(description).toMatch(/apps\/aggregator\/src\/retention\.ts/);
    // Spelled out, so a change on the aggregator's side fails here by name.
    expect(chart).toMatchObject({
      type: "object",
      additionalProperties: false,
      required: ["events", "deliveries", "rollups", "everySeconds"],
      properties: {
        events: { type: "string", pattern: DURATION },
        deliveries: { type: "string", pattern: DURATION },
        rollups: { type: "string", pattern: DURATION },
        everySeconds: { type: "integer", minimum: 1 },
      },
    });
  });

  it("defaults - values.yaml renders the aggregator's own retention defaults (events 90d, deliveries 30d, rollups 730d, a pass every 3600 s); every shipped values file's aggregator config passes the aggregator's own loader with them", async () => {
    const objects = await renderChart("tributary-hub");
    const rendered = aggregatorJson(objects);
    expect(rendered.retention).toEqual(DEFAULTS);
    const { retention: _omitted, ...withoutRetention } = rendered;
    expect(load(rendered).retention).toEqual(load(withoutRetention).retention);
    expect(load(rendered).retention).toEqual(DEFAULTS);
    for (const file of valuesFilesOf("tributary-hub").filter((f) => f !== undefined)) {
      const config = aggregatorJson(await renderChart("tributary-hub", { valuesFiles: [file] }));
      expect(load(config).retention, file).toEqual(DEFAULTS);
    }
  });

  it("custom - set values render through as the aggregator's retention (forever included); one value set keeps the others' defaults; a change rolls the aggregator (config checksum)", async () => {
    const custom = { events: "forever", deliveries: "12h", rollups: "3650d", everySeconds: 600 };
    const defaults = await renderChart("tributary-hub");
    const objects = await renderChart("tributary-hub", { setJson: { "aggregator.retention": custom } });
    expect(aggregatorJson(objects).retention).toEqual(custom);
    expect(load(aggregatorJson(objects)).retention).toEqual(custom);
    expect(checksumOf(objects)).not.toBe(checksumOf(defaults));
    const one = await renderChart("tributary-hub", { setJson: { "aggregator.retention.events": "7d" } });
    expect(aggregatorJson(one).retention).toEqual({ ...DEFAULTS, events: "7d" });
    expect(load(aggregatorJson(one)).retention).toEqual({ ...DEFAULTS, events: "7d" });
  });

  it("schema - a bad duration, an everySeconds below 1 or not an integer, or an unknown key fails lint and template with a message naming the value; the aggregator's loader refuses the same", async () => {
    const cases: Array<[string, unknown, RegExp]> = [
      ["events", "0d", /aggregator\.retention\.events: Does not match pattern/],
      ["events", "90 days", /aggregator\.retention\.events: Does not match pattern/],
      ["events", 90, /aggregator\.retention\.events: Invalid type\. Expected: string/],
      ["deliveries", "1w", /aggregator\.retention\.deliveries: Does not match pattern/],
      ["rollups", "1000000d", /aggregator\.retention\.rollups: Does not match pattern/],
      ["rollups", "never", /aggregator\.retention\.rollups: Does not match pattern/],
      ["everySeconds", 0, /aggregator\.retention\.everySeconds: Must be greater than or equal to 1/],
      ["everySeconds", 1.5, /aggregator\.retention\.everySeconds: Invalid type\. Expected: integer/],
      ["keep", "1d", /aggregator\.retention: Additional property keep is not allowed/],
    ];
    const rendered = aggregatorJson(await renderChart("tributary-hub"));
    for (const [key, value, message] of cases) {
      const setJson = { [`aggregator.retention.${key}`]: value };
      await expect(renderChart("tributary-hub", { setJson }), JSON.stringify(setJson)).rejects.toThrow(message);
      await expect(lintChart("tributary-hub", { setJson }), JSON.stringify(setJson)).rejects.toBeInstanceOf(HelmError);
      expect(() => load({ ...rendered, retention: { ...DEFAULTS, [key]: value } }), JSON.stringify(setJson)).toThrow();
    }
  });
});
