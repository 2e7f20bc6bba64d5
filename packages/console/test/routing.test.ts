import { describe, expect, it } from "vitest";
import { href, parseRoute } from "../src/router";
import { scopeBelow } from "../src/session";

describe("hash routes - every page and its filters are a shareable URL", () => {
  it("an event key with ':' and '/' survives the round trip", () => {
    const key = "shop:evt/1?x=#y";
    const route = parseRoute(href(["events", key]));
    expect(route.parts).toEqual(["events", key]);
  });

  it("filters and the cursor go into the query; empty values are left out", () => {
    const link = href(["events"], { source: "shop", type: "", cursor: "c2VxOjQ", country: undefined });
    expect(link).toBe("#/events?source=shop&cursor=c2VxOjQ");
    const route = parseRoute(link);
    expect(route.parts).toEqual(["events"]);
    expect(Object.fromEntries(route.query)).toEqual({ source: "shop", cursor: "c2VxOjQ" });
  });

  it("no hash is the default page", () => {
    expect(parseRoute("")).toMatchObject({ parts: [] });
    expect(parseRoute("#/")).toMatchObject({ parts: [] });
  });
});

describe("scope - what a refusal shows about the token", () => {
  it("'needs write' means read; 'needs admin' means at most write; never raised", () => {
    expect(scopeBelow("token ops has scope read; this needs write", "write")).toBe("read");
    expect(scopeBelow("token ops has scope write; this needs admin", "admin")).toBe("write");
    expect(scopeBelow("token ops has scope read; this needs admin", "read")).toBe("read");
    expect(scopeBelow("something else", "admin")).toBe("admin");
  });
});
