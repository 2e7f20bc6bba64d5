import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from "node:dns";
import { isIP, type LookupFunction } from "node:net";
import ipaddr from "ipaddr.js";
import { buildConnector } from "undici";
import { ConfigError, defineErrors } from "@tributary/errors";
import { DELIVERY_FAILURES } from "./errors.js";

/**
 * Which addresses a destination may be sent to. Webhook destinations are usually hosts whose DNS
 * someone else controls, so a name can point at 169.254.169.254 (cloud metadata), 127.0.0.1, a
 * node or a cluster Service; the delivery process would then POST there, signed and with the
 * destination's secret headers, and keep the error answer in its DLQ. The policy refuses every
 * address that is not ordinary global unicast — loopback, link-local, RFC 1918 and unique-local,
 * CGNAT, multicast, unspecified, broadcast, reserved and documentation ranges, and the IPv6 forms
 * that embed an IPv4 address (IPv4-mapped, NAT64, 6to4, Teredo) — unless `allowPrivate` lists it,
 * as a CIDR or as the destination's host name. Ranges come from ipaddr.js (`range()`), not from
 * lists of our own.
 */
export type AllowedAddresses = readonly string[];

/** A connection the policy refused: the delivery is dead-lettered with `address_refused`. */
export class AddressRefusedError extends defineErrors("AddressRefusedError", {
  address_refused: DELIVERY_FAILURES.address_refused,
}) {}

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** A host name as compared: lower case, without the root's trailing dot or an IPv6 literal's brackets. */
function normalHost(host: string): string {
  return host
    .toLowerCase()
    .replace(/^\[(.*)\]$/, "$1")
    .replace(/\.$/, "");
}

export class AddressPolicy {
  readonly #names: ReadonlySet<string>;
  readonly #cidrs: ReadonlyArray<[ipaddr.IPv4 | ipaddr.IPv6, number]>;

  private constructor(names: Set<string>, cidrs: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]>) {
    this.#names = names;
    this.#cidrs = cidrs;
  }

  /** From `allowPrivate` entries: CIDRs (`10.0.0.0/8`, `fd00::/8`, `127.0.0.1/32`) or host names. */
  static create(allow: AllowedAddresses, field = "allowPrivate"): AddressPolicy {
    const names = new Set<string>();
    const cidrs: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]> = [];
    allow.forEach((entry, i) => {
      if (ipaddr.isValidCIDR(entry)) {
        const [address, bits] = ipaddr.parseCIDR(entry);
        cidrs.push([address, bits]);
      } else if (HOST_NAME.test(normalHost(entry)) && !ipaddr.isValid(entry)) {
        names.add(normalHost(entry));
      } else {
        throw new ConfigError(
          `${field}[${i}]`,
          `${JSON.stringify(entry)} is neither a CIDR nor a host name`,
          'give a CIDR such as "10.20.0.0/16" or "127.0.0.1/32", or a host name such as "hooks.internal.example"',
        );
      }
    });
    return new AddressPolicy(names, cidrs);
  }

  /**
   * Why `address` (what `host` resolved to, or the host itself when it is an IP literal) may not
   * be connected to — its range, e.g. `loopback` — or undefined when it may.
   */
  refusal(host: string, address: string): string | undefined {
    if (this.#names.has(normalHost(host))) return undefined;
    let parsed: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      // process(): an IPv4-mapped IPv6 address (::ffff:10.0.0.1) is judged as the IPv4 it is.
      parsed = ipaddr.process(normalHost(address));
    } catch {
      return "unparseable";
    }
    const range = parsed.range();
    if (range === "unicast") return undefined;
    const allowed = this.#cidrs.some(([net, bits]) => net.kind() === parsed.kind() && parsed.match(net, bits));
    return allowed ? undefined : range;
  }

  /** At start: a destination URL whose host is a refused IP literal is a config error, not a DLQ of every event. */
  checkUrl(url: string, field: string): void {
    const host = normalHost(new URL(url).hostname);
    if (isIP(host) === 0) return; // a name: judged on what it resolves to, at every connect
    const range = this.refusal(host, host);
    if (range)
      throw new ConfigError(
        field,
        `points at ${host}, a ${range} address, which destinations may not reach`,
        "use a public address, or list the address (or a CIDR holding it) in allowPrivate if the destination really is internal",
      );
  }

  refuse(host: string, address: string, range: string): AddressRefusedError {
    return new AddressRefusedError(
      "address_refused",
      `${normalHost(host)} resolves to ${address}, a ${range} address, which allowPrivate does not list`,
      { details: { host: normalHost(host), address, range } },
    );
  }
}

type Resolve = (
  hostname: string,
  options: LookupAllOptions,
  callback: (err: Error | null, addresses: LookupAddress[]) => void,
) => void;

/**
 * A `lookup` for net/tls.connect that resolves every address of the name and refuses the
 * connection when any of them is refused: a name that answers with a public and a private address
 * (or changes its answer between lookups, DNS rebinding) cannot get a connection to the private one.
 * The socket then connects to exactly the addresses vetted here.
 */
export function policyLookup(policy: AddressPolicy, resolve: Resolve = dnsLookup): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      const reply = callback as (err: Error | null, address: string | LookupAddress[], family?: number) => void;
      if (err) return reply(err, []);
      for (const { address } of addresses) {
        const range = policy.refusal(hostname, address);
        if (range) return reply(policy.refuse(hostname, address, range), []);
      }
      if (options.all) return reply(null, addresses);
      const [first] = addresses;
      return first ? reply(null, first.address, first.family) : reply(null, []);
    });
  };
}

/**
 * undici's connector with the policy: an IP-literal host is judged before connecting (net and tls
 * do not look those up), a name through policyLookup at every connect — the pool reconnects, and a
 * name can resolve differently each time.
 */
export function policyConnector(policy: AddressPolicy, timeoutMs: number): buildConnector.connector {
  const connect = buildConnector({ timeout: timeoutMs, lookup: policyLookup(policy) });
  return (options, callback) => {
    const host = normalHost(options.hostname);
    if (isIP(host) !== 0) {
      const range = policy.refusal(host, host);
      if (range) return callback(policy.refuse(host, host, range), null);
    }
    return connect(options, callback);
  };
}
