import { ConfigError } from "@tributary/errors";
import { controlMirrorExports, controlPermissions } from "./control.js";
import { deliveryPermissions, managedDeliveryPermissions, type DeliveryScope } from "./delivery.js";
import { regionalStreamName } from "./names.js";
import {
  aggregatorPermissions,
  gatewayPermissions,
  leafPermissions,
  linkExports,
  type Permissions,
} from "./permissions.js";

/**
 * nats-server configs for the topology, as code: one server per region (JetStream domain = the
 * region, a leafnode remote to the hub) and the hub (domain `hub`, the leafnode listener), or a
 * cluster of servers for each (`cluster`: the same config per node but its name and ports). All
 * clients live in one account, TRIBUTARY, each user with least privilege; the leafnode link has its
 * own user. Passwords are given as values or as `$ENV_VAR` references that nats-server resolves.
 * Every listener and link runs TLS (client port, leafnodes, routes) unless the whole server is on
 * loopback and says `insecurePlaintext` (the local system, tests).
 */
export const ACCOUNT = "TRIBUTARY";

/**
 * The largest message (body and headers) every server of the topology takes: nats-server's
 * `max_payload`, set in every config and chart. Its default, 1 MiB, is the gateway's largest body,
 * so a near-limit event with its headers could never be published or dead-lettered; 2 MiB holds
 * the largest body, its headers and a DLQ entry's extra headers. The gateway keeps its
 * `maxBodyBytes` below this less its headers.
 */
export const MAX_PAYLOAD_BYTES = 2 * 1024 * 1024;

/** The certificate files of one TLS listener, as paths nats-server reads. */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
  /** The CA that peers' certificates are checked against (needed with `verify`). */
  caFile?: string;
  /** Require a certificate from every peer, signed by `caFile` (mutual TLS). */
  verify?: boolean;
}

/** TLS of an outgoing link: the CA the other side's certificate is checked against, and our own certificate when it asks for one. */
export interface TlsRemote {
  caFile: string;
  certFile?: string;
  keyFile?: string;
}

/**
 * The hub-side account a region's leafnode link binds to (`LINK_US`). One per region, so the only
 * thing shared with the TRIBUTARY account is what `linkExports` lists, and one region's link cannot
 * reach another's replies, requests or deliveries.
 */
export function linkAccountName(region: string): string {
  return `LINK_${regionalStreamName(region).slice("EVENTS_".length)}`;
}

export interface UserCredential {
  user: string;
  /** A literal password, or `$NAME` for an environment variable read by nats-server. */
  password: string;
}

/**
 * One node of a nats-server cluster (a region's or the hub's): R3 streams need three. Every node of
 * one cluster has the same `name` and `routes`; nodes differ in `serverName` and `port`.
 */
export interface ClusterOptions {
  /** The cluster's name: one per region (`tributary-us`) and the hub, never shared between them. */
  name: string;
  /** This node's route port. */
  port: number;
  /** Route listen host; default: the server's `host`. */
  host?: string;
  /** `nats-route://host:port` of the cluster's nodes (a node's own address in the list is skipped by nats-server). */
  routes: readonly string[];
  /**
   * TLS of the routes, both ways: each node's certificate serves its listener and is presented to
   * the nodes it connects to; with `verify` (what production wants) a route must present one
   * signed by `caFile`.
   */
  tls?: TlsFiles;
  /**
   * Routes authenticate with this user: the listener requires it and every route URL carries it.
   * A literal password (nats-server substitutes no `$VAR` inside a URL).
   */
  credential?: UserCredential;
}

export interface RegionServerOptions {
  region: string;
  storeDir: string;
  /** Client port; -1 lets the server pick. */
  port?: number;
  host?: string;
  /**
   * `nats-leaf://host:port` of the hub's leafnode listener; `leaf` is added as its credentials.
   * Or a bare `$VAR` naming an environment variable that holds the whole URL with credentials
   * (nats-server does not substitute variables inside a string). A list for a clustered hub: the
   * link connects to any of them.
   */
  hubLeafnodeUrl: string | readonly string[];
  admin: UserCredential;
  gateway: UserCredential;
  /** The user this region's leafnode link logs in to the hub as (ignored for a `$VAR` URL). */
  leaf: UserCredential;
  /** `always` for power-loss durability (a PubAck survives a power cut), at ~5× publish cost. */
  syncInterval?: "always" | string;
  /** Required with `cluster`: unique per node (`tributary-us-1`). */
  serverName?: string;
  /** This server is one node of the region's cluster; each node has the same leafnode remote to the hub. */
  cluster?: ClusterOptions;
  /** TLS of the client port (the gateway and operators connect here). */
  tls?: TlsFiles;
  /** TLS of the leafnode link to the hub: the CA of the hub's leafnode certificate. */
  hubTls?: TlsRemote;
  /**
   * No TLS anywhere: only for a server on loopback (the local system, tests). Refused with any
   * other host or with a hub URL the renderer cannot see (a `$VAR`).
   */
  insecurePlaintext?: boolean;
}

export interface HubServerOptions {
  storeDir: string;
  port?: number;
  host?: string;
  /** Leafnode listener port; -1 lets the server pick. */
  leafnodePort?: number;
  admin: UserCredential;
  aggregator: UserCredential;
  aggregatorDurable: string;
  /** One leafnode user per region. */
  leafs: Array<{ region: string; credential: UserCredential }>;
  /**
   * The delivery process's user (apps/delivery), allowed only its destinations' consumers and
   * subjects (`deliveryPermissions`); absent when no delivery process runs.
   */
  delivery?: { credential: UserCredential; destinations: readonly DeliveryScope[]; managed?: boolean };
  /** The management API's user (`controlPermissions`); absent when no management API runs. */
  control?: UserCredential;
  /**
   * The leafnode address the hub tells regions to reconnect to. Regions learn it from the hub and
   * use it over the configured URL, so behind a proxy or load balancer it must be that address.
   */
  leafnodeAdvertise?: string;
  syncInterval?: "always" | string;
  /** Required with `cluster`: unique per node (`tributary-hub-1`). */
  serverName?: string;
  /** This server is one node of the hub's cluster. */
  cluster?: ClusterOptions;
  /** TLS of the client port (the aggregator, the delivery process and operators connect here). */
  tls?: TlsFiles;
  /** TLS of the leafnode listener the regions connect to (over the internet). */
  leafnodeTls?: TlsFiles;
  /** No TLS anywhere: only for a server on loopback, as RegionServerOptions.insecurePlaintext. */
  insecurePlaintext?: boolean;
}

function quote(value: string): string {
  // `$VAR` stays bare so nats-server substitutes the environment variable.
  return /^\$[A-Z_][A-Z0-9_]*$/.test(value) ? value : JSON.stringify(value);
}

function list(values: readonly string[]): string {
  return `[${values.map((v) => JSON.stringify(v)).join(", ")}]`;
}

/**
 * A user of the account. `connection` pins how it may connect: nats-server lets a user without
 * `allowed_connection_types` also log in as a leafnode, so every client user is STANDARD and the
 * link users are LEAFNODE only.
 */
function user(cred: UserCredential, connection: "STANDARD" | "LEAFNODE", permissions?: Permissions): string {
  const perms = permissions
    ? `, permissions: { publish: { allow: ${list(permissions.publish)}${permissions.denyPublish ? `, deny: ${list(permissions.denyPublish)}` : ""} }, subscribe: { allow: ${list(permissions.subscribe)} } }`
    : "";
  return `      { user: ${JSON.stringify(cred.user)}, password: ${quote(cred.password)}, allowed_connection_types: ["${connection}"]${perms} }`;
}

function jetstreamBlock(storeDir: string, domain: string, syncInterval: string | undefined): string {
  return [
    "jetstream {",
    `  store_dir: ${JSON.stringify(storeDir)}`,
    `  domain: ${JSON.stringify(domain)}`,
    ...(syncInterval ? [`  sync_interval: ${syncInterval}`] : []),
    "}",
  ].join("\n");
}

function withCredential(address: string, cred: UserCredential): string {
  const url = new URL(address);
  url.username = encodeURIComponent(cred.user);
  url.password = encodeURIComponent(cred.password);
  return url.toString();
}

/** A `tls {}` block at `indent`. */
function tlsBlock(indent: string, tls: TlsFiles | TlsRemote): string[] {
  const files: Array<[string, string | undefined]> = [
    ["cert_file", tls.certFile],
    ["key_file", tls.keyFile],
    ["ca_file", tls.caFile],
  ];
  return [
    `${indent}tls {`,
    ...files.flatMap(([key, path]) => (path ? [`${indent}  ${key}: ${JSON.stringify(path)}`] : [])),
    ...("verify" in tls && tls.verify ? [`${indent}  verify: true`] : []),
    `${indent}}`,
  ];
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

/**
 * The production rule: every listener and link of a server runs TLS. Plaintext is allowed only
 * when asked for and every address the server listens on or dials is loopback.
 */
function assertTransport(opts: {
  insecurePlaintext: boolean | undefined;
  hosts: readonly string[];
  urls: readonly string[];
  missing: ReadonlyArray<[field: string, present: boolean]>;
}): void {
  if (opts.insecurePlaintext) {
    const outside = [
      ...opts.hosts.filter((h) => !LOOPBACK.has(h)),
      ...opts.urls.filter((u) => u.startsWith("$") || !LOOPBACK.has(new URL(u).hostname.replace(/^\[|\]$/g, ""))),
    ];
    if (outside.length > 0)
      throw new ConfigError(
        "insecurePlaintext",
        `plaintext is for a server on loopback only, and this one would listen on or dial ${outside.join(", ")}`,
        "give the TLS certificate files (tls, leafnode TLS, cluster.tls) instead",
      );
    return;
  }
  for (const [field, present] of opts.missing)
    if (!present)
      throw new ConfigError(
        field,
        "is required: every listener and link of a production server runs TLS",
        `give its certificate files, or set insecurePlaintext for a server on loopback only`,
      );
}

/** The `cluster {}` block of one node, or nothing for a lone server. */
function clusterBlock(cluster: ClusterOptions | undefined, serverName: string | undefined, host: string): string[] {
  if (!cluster) return [];
  // Without it every node would be `tributary-us`, and JetStream's meta group needs unique names.
  if (!serverName)
    throw new Error(`cluster ${cluster.name}: each node needs its own serverName (e.g. ${cluster.name}-1)`);
  const cred = cluster.credential;
  if (cred && cred.password.startsWith("$"))
    throw new Error(
      `cluster ${cluster.name}: the route password must be a literal: it goes into each route URL, where nats-server substitutes no variable`,
    );
  return [
    "cluster {",
    `  name: ${JSON.stringify(cluster.name)}`,
    `  listen: ${JSON.stringify(`${cluster.host ?? host}:${cluster.port}`)}`,
    ...(cred
      ? [
          "  authorization {",
          `    user: ${JSON.stringify(cred.user)}`,
          `    password: ${JSON.stringify(cred.password)}`,
          "  }",
        ]
      : []),
    ...(cluster.tls ? tlsBlock("  ", cluster.tls) : []),
    "  routes: [",
    ...cluster.routes.map((route) => `    ${JSON.stringify(cred ? withCredential(route, cred) : route)}`),
    "  ]",
    "}",
  ];
}

export function renderRegionServerConfig(opts: RegionServerOptions): string {
  const urls = typeof opts.hubLeafnodeUrl === "string" ? [opts.hubLeafnodeUrl] : [...opts.hubLeafnodeUrl];
  const host = opts.host ?? "127.0.0.1";
  assertTransport({
    insecurePlaintext: opts.insecurePlaintext,
    hosts: [host, ...(opts.cluster ? [opts.cluster.host ?? host] : [])],
    urls: [...urls, ...(opts.cluster?.routes ?? [])],
    missing: [
      ["tls", opts.tls !== undefined],
      ["hubTls", opts.hubTls !== undefined],
      ...(opts.cluster ? [["cluster.tls", opts.cluster.tls !== undefined] as [string, boolean]] : []),
    ],
  });
  let remote: string;
  if (urls.length === 1 && urls[0]!.startsWith("$")) {
    remote = `url: ${urls[0]}`;
  } else if (urls.length === 1) {
    remote = `url: ${JSON.stringify(withCredential(urls[0]!, opts.leaf))}`;
  } else {
    remote = `urls: ${list(urls.map((url) => withCredential(url, opts.leaf)))}`;
  }
  return [
    `server_name: ${JSON.stringify(opts.serverName ?? `tributary-${opts.region}`)}`,
    `host: ${JSON.stringify(host)}`,
    `port: ${opts.port ?? 4222}`,
    `max_payload: ${MAX_PAYLOAD_BYTES}`,
    ...(opts.tls ? tlsBlock("", opts.tls) : []),
    jetstreamBlock(opts.storeDir, opts.region, opts.syncInterval),
    "accounts {",
    `  ${ACCOUNT}: {`,
    "    jetstream: enabled",
    "    users: [",
    user(opts.admin, "STANDARD") + ",",
    user(opts.gateway, "STANDARD", gatewayPermissions(opts.region)),
    "    ]",
    "  }",
    "}",
    "leafnodes {",
    "  remotes: [",
    ...(opts.hubTls
      ? [`    {`, `      ${remote}`, `      account: ${ACCOUNT}`, ...tlsBlock("      ", opts.hubTls), `    }`]
      : [`    { ${remote}, account: ${ACCOUNT} }`]),
    "  ]",
    "}",
    ...clusterBlock(opts.cluster, opts.serverName, host),
    "",
  ].join("\n");
}

/** The TRIBUTARY account's imports of every region's sourcing subjects from its link account. */
function linkImports(regions: readonly string[]): string[] {
  return regions.flatMap((region) => {
    const account = JSON.stringify(linkAccountName(region));
    const exported = linkExports(region);
    return [
      ...exported.services.map(
        (subject) => `      { service: { account: ${account}, subject: ${JSON.stringify(subject)} } }`,
      ),
      ...exported.streams.map(
        (subject) => `      { stream: { account: ${account}, subject: ${JSON.stringify(subject)} } }`,
      ),
    ];
  });
}

function linkAccount(leaf: { region: string; credential: UserCredential }): string[] {
  const exported = linkExports(leaf.region);
  const mirror = controlMirrorExports(leaf.region);
  const toHub = `accounts: [${JSON.stringify(ACCOUNT)}]`;
  return [
    `  ${linkAccountName(leaf.region)}: {`,
    "    users: [",
    user(leaf.credential, "LEAFNODE", leafPermissions(leaf.region)),
    "    ]",
    "    exports: [",
    ...exported.services.map((subject) => `      { service: ${JSON.stringify(subject)}, ${toHub} }`),
    ...exported.streams.map((subject) => `      { stream: ${JSON.stringify(subject)}, ${toHub} }`),
    "    ]",
    "    imports: [",
    ...mirror.services.map(
      (subject) => `      { service: { account: ${ACCOUNT}, subject: ${JSON.stringify(subject)} } }`,
    ),
    ...mirror.streams.map(
      (subject) => `      { stream: { account: ${ACCOUNT}, subject: ${JSON.stringify(subject)} } }`,
    ),
    "    ]",
    "  }",
  ];
}

/** The TRIBUTARY account's exports of the control bucket's mirror subjects, each region's to its own link account. */
function controlMirrorAccountExports(regions: readonly string[]): string[] {
  return regions.flatMap((region) => {
    const to = `accounts: [${JSON.stringify(linkAccountName(region))}]`;
    const mirror = controlMirrorExports(region);
    return [
      ...mirror.services.map((subject) => `      { service: ${JSON.stringify(subject)}, ${to} }`),
      ...mirror.streams.map((subject) => `      { stream: ${JSON.stringify(subject)}, ${to} }`),
    ];
  });
}

export function renderHubServerConfig(opts: HubServerOptions): string {
  const host = opts.host ?? "127.0.0.1";
  assertTransport({
    insecurePlaintext: opts.insecurePlaintext,
    hosts: [host, ...(opts.cluster ? [opts.cluster.host ?? host] : [])],
    urls: opts.cluster?.routes ?? [],
    missing: [
      ["tls", opts.tls !== undefined],
      ["leafnodeTls", opts.leafnodeTls !== undefined],
      ...(opts.cluster ? [["cluster.tls", opts.cluster.tls !== undefined] as [string, boolean]] : []),
    ],
  });
  return [
    `server_name: ${JSON.stringify(opts.serverName ?? "tributary-hub")}`,
    `host: ${JSON.stringify(host)}`,
    `port: ${opts.port ?? 4222}`,
    `max_payload: ${MAX_PAYLOAD_BYTES}`,
    ...(opts.tls ? tlsBlock("", opts.tls) : []),
    jetstreamBlock(opts.storeDir, "hub", opts.syncInterval),
    "accounts {",
    `  ${ACCOUNT}: {`,
    "    jetstream: enabled",
    "    users: [",
    [
      user(opts.admin, "STANDARD"),
      user(opts.aggregator, "STANDARD", aggregatorPermissions(opts.aggregatorDurable)),
      ...(opts.delivery
        ? [
            user(
              opts.delivery.credential,
              "STANDARD",
              opts.delivery.managed
                ? managedDeliveryPermissions(opts.aggregatorDurable)
                : deliveryPermissions(opts.delivery.destinations),
            ),
          ]
        : []),
      ...(opts.control ? [user(opts.control, "STANDARD", controlPermissions())] : []),
    ].join(",\n"),
    "    ]",
    "    exports: [",
    controlMirrorAccountExports(opts.leafs.map((leaf) => leaf.region)).join(",\n"),
    "    ]",
    "    imports: [",
    linkImports(opts.leafs.map((leaf) => leaf.region)).join(",\n"),
    "    ]",
    "  }",
    // Each region's leafnode link lives in its own account (see linkAccountName).
    ...opts.leafs.flatMap(linkAccount),
    "}",
    "leafnodes {",
    `  host: ${JSON.stringify(host)}`,
    `  port: ${opts.leafnodePort ?? 7422}`,
    ...(opts.leafnodeAdvertise ? [`  advertise: ${JSON.stringify(opts.leafnodeAdvertise)}`] : []),
    ...(opts.leafnodeTls ? tlsBlock("  ", opts.leafnodeTls) : []),
    "}",
    ...clusterBlock(opts.cluster, opts.serverName, host),
    "",
  ].join("\n");
}
