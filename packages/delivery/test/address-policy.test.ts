import type { LookupAddress } from "node:dns";
import { describe, expect, it } from "vitest";
import { isConfigError } from "@tributary/errors";
import { AddressPolicy, AddressRefusedError, policyLookup } from "../src/index.js";

const REFUSED: Array<[string, string]> = [
  ["127.0.0.1", "loopback"],
  ["127.53.0.9", "loopback"],
  ["169.254.169.254", "linkLocal"],
  ["10.1.2.3", "private"],
  ["172.16.0.1", "private"],
  ["192.168.1.1", "private"],
  ["100.64.0.1", "carrierGradeNat"],
  ["224.0.0.251", "multicast"],
  ["0.0.0.0", "unspecified"],
  ["255.255.255.255", "broadcast"],
  ["::1", "loopback"],
  ["::", "unspecified"],
  ["fe80::1", "linkLocal"],
  ["fd12:3456::1", "uniqueLocal"],
  ["ff02::1", "multicast"],
  ["::ffff:127.0.0.1", "loopback"],
  ["::ffff:169.254.169.254", "linkLocal"],
  ["::ffff:10.0.0.1", "private"],
  ["64:ff9b::a00:1", "rfc6052"],
  ["2002:a00:1::1", "6to4"],
];

/** A resolver answering from a fixed table (the unit under test is the vetting, not DNS). */
function resolver(table: Record<string, LookupAddress[]>) {
  return (host: string, _opts: unknown, cb: (err: Error | null, addresses: LookupAddress[]) => void) =>
    cb(null, table[host] ?? []);
}

function lookupWith(policy: AddressPolicy, table: Record<string, LookupAddress[]>, host: string, all: boolean) {
  return new Promise<{ err: Error | null; result: unknown }>((resolve) =>
    policyLookup(policy, resolver(table))(host, { all }, (err: Error | null, result: unknown) =>
      resolve({ err, result }),
    ),
  );
}

describe("address policy", () => {
  const strict = AddressPolicy.create([]);

  it("M10 - loopback, link-local (metadata), RFC 1918, ULA, CGNAT, multicast, unspecified and IPv4-mapped forms are refused by default", () => {
    for (const [address, range] of REFUSED) expect(strict.refusal("hook.example.com", address), address).toBe(range);
    for (const address of ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111"])
      expect(strict.refusal("hook.example.com", address), address).toBeUndefined();
  });

  it("M10 - the allow-list admits its CIDRs and host names, and nothing else", () => {
    const policy = AddressPolicy.create(["10.20.0.0/16", "fd00::/8", "crm.internal.example."]);
    expect(policy.refusal("x.example", "10.20.3.4")).toBeUndefined();
    expect(policy.refusal("x.example", "::ffff:10.20.3.4")).toBeUndefined();
    expect(policy.refusal("x.example", "fd12::1")).toBeUndefined();
    expect(policy.refusal("x.example", "10.21.0.1")).toBe("private");
    expect(policy.refusal("x.example", "169.254.169.254")).toBe("linkLocal");
    expect(policy.refusal("CRM.internal.example", "192.168.7.7")).toBeUndefined();
  });

  it("M10 - a name is refused when any address it resolves to is refused (a rebinding name cannot pass)", async () => {
    const table = {
      "rebind.example": [
        { address: "93.184.215.14", family: 4 },
        { address: "169.254.169.254", family: 4 },
      ],
      "public.example": [
        { address: "93.184.215.14", family: 4 },
        { address: "2606:4700:4700::1111", family: 6 },
      ],
    };
    const refused = await lookupWith(strict, table, "rebind.example", true);
    expect(refused.err).toBeInstanceOf(AddressRefusedError);
    expect((refused.err as AddressRefusedError).code).toBe("address_refused");
    expect((refused.err as AddressRefusedError).details).toEqual({
      host: "rebind.example",
      address: "169.254.169.254",
      range: "linkLocal",
    });
    expect((await lookupWith(strict, table, "rebind.example", false)).err).toBeInstanceOf(AddressRefusedError);
    expect(await lookupWith(strict, table, "public.example", true)).toEqual({
      err: null,
      result: table["public.example"],
    });
  });

  it("M10 - a bad allow-list entry, or a URL that is a refused IP literal, is a config error naming the field", () => {
    let err: unknown;
    try {
      AddressPolicy.create(["10.0.0.0/8", "not a host!"], "destinations[0].allowPrivate");
    } catch (e) {
      err = e;
    }
    expect(isConfigError(err) && err.field).toBe("destinations[0].allowPrivate[1]");
    err = undefined;
    try {
      strict.checkUrl("http://169.254.169.254/latest/meta-data", "destinations[0].url");
    } catch (e) {
      err = e;
    }
    expect(isConfigError(err) && err.field).toBe("destinations[0].url");
    expect(() => strict.checkUrl("http://[::ffff:127.0.0.1]:8080/hook", "url")).toThrow(/loopback/);
    expect(() => strict.checkUrl("https://hooks.example.com/x", "url")).not.toThrow();
    expect(() => AddressPolicy.create(["127.0.0.1/32"]).checkUrl("http://127.0.0.1:9/x", "url")).not.toThrow();
  });
});
