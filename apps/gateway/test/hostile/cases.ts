import { createHash, createHmac } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { signWebhook } from "@tributary/testkit";
import type { Prng } from "./prng.js";
import { chunked, requestBytes, type HeaderList, type Step } from "./raw-http.js";

/** The sources of the gateway under attack, as its config names them. */
export const DEMO_SECRET = "hostile-demo-secret-0123456789abcdef";
export const DEMO_OLD_SECRET = "hostile-demo-old-secret-0123456789ab";
export const STD_SECRET = `whsec_${Buffer.from("hostile-standard-webhooks-key-32b").toString("base64")}`;
/** `demo` (webhook-hmac-sha256) takes bodies up to this; wide JSON bodies fit under it. */
export const DEMO_MAX_BODY = 32 * 1024;
export const STD_MAX_BODY = 4096;
export const DEMO_BATCH_ITEMS = 100;
export const DEMO_BATCH_BYTES = 64 * 1024;
export const TOLERANCE_SECONDS = 300;

/** The documented JSON limits (ERRORS.md, json_limits_exceeded): 32 levels, 10,000 keys and elements. */
export const MAX_DEPTH = 32;
export const MAX_NODES = 10_000;
/** The most signature entries Standard Webhooks' header may list, and of them `v1a`. */
export const MAX_SIGNATURE_ENTRIES = 16;
export const MAX_V1A_ENTRIES = 4;
/** Longest signature header value a scheme reads. */
export const MAX_HEADER_CHARS = 1024;

/** One request of the run, built ahead of time from the PRNG. */
export interface HostileRequest {
  /** Its row in the summary table. */
  kind: string;
  /**
   * `keepalive`: well-formed HTTP on a reused connection; `oneshot`: a fresh connection that plays
   * `steps` (for requests that break HTTP, or that the server must end).
   */
  transport: "keepalive" | "oneshot";
  bytes?: Buffer;
  steps?: Step[];
  /** Parts kept so a replay can resend the request with other headers. */
  parts?: { path: string; headers: Array<[string, string]>; body: Buffer };
  /** HEAD answers carry no body. */
  head?: boolean;
  /** Acceptable answers as "status code" labels ("202 accepted", "401 signature_missing", …). */
  expect: readonly string[];
  /** A valid event: the key it must be stored under, exactly once. */
  eventKey?: string;
  /** A replay or a sender's retry: index of the request it repeats (sent once that one is answered). */
  repeats?: number;
  /** Bytes on the wire (for the table). */
  size: number;
}

const A = (s: string) => Buffer.from(s, "latin1");
const U = (s: string) => Buffer.from(s, "utf8");
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const nowSeconds = () => Math.floor(Date.now() / 1000);

const ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789";
const HEX = "0123456789abcdef";
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/** Visible ASCII and spaces: what a header value may carry without breaking HTTP. */
const VISIBLE = ` !"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_\`abcdefghijklmnopqrstuvwxyz{|}~`;

const EVENTS_PATH = "/v1/sources/demo/events";
const STD_PATH = "/v1/sources/std/events";

/** The deep-link scheme's headers for `body`, signed by testkit's independent signer. */
function demoSignature(body: Buffer, opts: { timestamp?: number; secret?: string } = {}): Array<[string, string]> {
  const signed = signWebhook({ secret: opts.secret ?? DEMO_SECRET, body, timestamp: opts.timestamp });
  return [
    ["x-webhook-timestamp", signed["x-webhook-timestamp"]!],
    ["x-webhook-signature", signed["x-webhook-signature"]!],
  ];
}

/** A Standard Webhooks `v1,<base64>` entry, by the provider's own library. */
function stdEntry(id: string, timestamp: number, body: Buffer): string {
  return new Webhook(STD_SECRET).sign(id, new Date(timestamp * 1000), body);
}

export interface Generated {
  requests: HostileRequest[];
  /** Every event key the run sends as a valid event (the stream must hold exactly these). */
  validKeys: Set<string>;
}

/**
 * Builds the run's requests from the PRNG: each draws a kind by weight, valid signed events
 * interleaved all through, replays and retries pointing back at earlier valid events.
 */
export class HostileCases {
  readonly requests: HostileRequest[] = [];
  readonly validKeys = new Set<string>();
  /** Indexes of valid demo / std events, for replays. */
  readonly #validDemo: number[] = [];
  readonly #validStd: number[] = [];
  #n = 0;

  constructor(
    private readonly rng: Prng,
    private readonly port: number,
  ) {}

  generate(count: number): Generated {
    const kinds = Object.entries(this.#kinds) as Array<[string, [number, () => Omit<HostileRequest, "kind">]]>;
    const weights = kinds.map(([name, [weight]]) => [name, weight] as const);
    const table = new Map(kinds);
    for (let i = 0; i < count; i++) {
      let kind = this.rng.weighted(weights);
      // Replays need an earlier event to replay.
      if (kind.startsWith("replay-") || kind.startsWith("retry-"))
        if ((kind.includes("std") ? this.#validStd : this.#validDemo).length === 0) kind = "valid";
      const request = { kind, ...table.get(kind)![1]() };
      if (request.eventKey) {
        this.validKeys.add(request.eventKey);
        (kind.includes("std") ? this.#validStd : this.#validDemo).push(this.requests.length);
      }
      this.requests.push(request);
    }
    return { requests: this.requests, validKeys: this.validKeys };
  }

  /** A unique id for this run's events: `v…` for valid ones, `h…` for bodies that must not be stored. */
  #id(prefix: "v" | "h"): string {
    return `${prefix}${(this.#n++).toString(36)}-${this.rng.text(6, ALNUM)}`;
  }

  #event(id: string | null, data: Record<string, unknown> = {}): string {
    return JSON.stringify({
      event: "link.clicked",
      ...(id === null ? {} : { event_id: id }),
      timestamp: new Date().toISOString(),
      data: { link_id: `lnk_${this.rng.text(8, ALNUM)}`, platform: this.rng.pick(["ios", "android", "web"]), ...data },
    });
  }

  #keepalive(
    path: string,
    headers: Array<[string, string]>,
    body: Buffer,
    rest: Omit<HostileRequest, "kind" | "transport" | "size" | "bytes">,
    method = "POST",
  ): Omit<HostileRequest, "kind"> {
    const bytes = requestBytes({ method, path, headers, body, port: this.port });
    return { transport: "keepalive", bytes, parts: { path, headers, body }, size: bytes.length, ...rest };
  }

  #oneshot(steps: Step[], expect: readonly string[]): Omit<HostileRequest, "kind"> {
    const size = steps.reduce((sum, s) => sum + (Buffer.isBuffer(s) ? s.length : 0), 0);
    return { transport: "oneshot", steps, expect, size };
  }

  #head(path: string, headers: HeaderList, method = "POST"): Buffer {
    return requestBytes({ method, path, headers, port: this.port });
  }

  /** A signed demo request whose body is not a storable event: it must be refused with `code`. */
  #signedRefusal(body: Buffer, expect: readonly string[]): Omit<HostileRequest, "kind"> {
    return this.#keepalive(EVENTS_PATH, [["content-type", "application/json"], ...demoSignature(body)], body, {
      expect,
    });
  }

  /** Random headers that must not change the outcome of a valid request. */
  #noise(headers: Array<[string, string]>): { headers: Array<[string, string]>; path: string } {
    let out = [...headers];
    let path = EVENTS_PATH;
    const r = this.rng;
    const mutations = r.int(1, 3);
    for (let m = 0; m < mutations; m++) {
      switch (r.int(0, 9)) {
        case 0:
          out = out.map(([k, v]) => [r.chance(0.5) ? k.toUpperCase() : k, v]);
          break;
        case 1:
          out = out.map(([k, v]) => [k, `${r.pick(["", " ", "\t", "  "])}${v}${r.pick(["", " ", "\t", "  "])}`]);
          break;
        case 2:
          for (let i = r.int(1, 60); i > 0; i--)
            out.push([`x-${r.text(r.int(1, 20), ALNUM)}`, r.text(r.int(0, 200), VISIBLE).trim()]);
          break;
        case 3:
          out.push([
            "traceparent",
            r.pick([
              "00-00000000000000000000000000000000-0000000000000000-01",
              r.text(55, HEX),
              "garbage",
              "ff-".repeat(100),
            ]),
          ]);
          out.push(["tracestate", r.text(r.int(0, 600), VISIBLE).trim()]);
          out.push(["baggage", `k=${r.text(r.int(0, 300), ALNUM)}`]);
          break;
        case 4:
          out.push(["x-webhook-id", r.text(r.int(1, 300), VISIBLE).trim() || "x"]);
          out.push(["user-agent", r.text(r.int(0, 200), VISIBLE).trim()]);
          break;
        case 5:
          out.push(["expect", "100-continue"]);
          break;
        case 6: {
          const ct = r.pick([
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/json;",
            "application/cloudevents+json",
            "application/vnd.example.event+json",
          ]);
          out = out.map(([k, v]) => [k, k.toLowerCase() === "content-type" ? ct : v]);
          break;
        }
        case 7:
          path = r.pick([
            `${EVENTS_PATH}?x=${r.text(8, ALNUM)}`,
            `http://${r.text(8, ALNUM)}.example${EVENTS_PATH}`,
            "/v1/sources/%64emo/events",
          ]);
          break;
        case 8:
          out.push(["connection", "close"]);
          break;
        default:
          out.push(["x-forwarded-for", `${r.int(0, 255)}.${r.int(0, 255)}.${r.int(0, 255)}.${r.int(0, 255)}, unknown`]);
          out.push(["forwarded", `for="[${r.text(12, HEX)}]";proto=http`]);
      }
    }
    return { headers: out, path };
  }

  /** Valid demo events: `body` signed with the current or the previous secret. */
  #valid(body: Buffer, eventKey: string, opts: { noise?: boolean } = {}): Omit<HostileRequest, "kind"> {
    const secret = this.rng.chance(0.2) ? DEMO_OLD_SECRET : DEMO_SECRET;
    const base: Array<[string, string]> = [["content-type", "application/json"], ...demoSignature(body, { secret })];
    const { headers, path } = opts.noise ? this.#noise(base) : { headers: base, path: EVENTS_PATH };
    return this.#keepalive(path, headers, body, { expect: ["202 accepted"], eventKey });
  }

  /**
   * An event whose data holds `extraLevels` nested objects or arrays: the root is level 1, data
   * level 2, so the innermost container is level 2 + extraLevels.
   */
  #deep(id: string, extraLevels: number, array = false): string {
    const open = array ? "[" : '{"a":';
    const close = array ? "]" : "}";
    return `{"event":"link.clicked","event_id":"${id}","data":{"a":${open.repeat(extraLevels)}1${close.repeat(extraLevels)}}}`;
  }

  /** The envelope (event, event_id, timestamp, data: 4 keys), data's one key, and `n` array elements. */
  #wide(id: string, n: number): string {
    return `{"event":"link.clicked","event_id":"${id}","timestamp":"${new Date().toISOString()}","data":{"a":[${new Array<string>(n).fill("0").join(",")}]}}`;
  }

  /** A standard-webhooks request with the given signature entries (the valid one placed by the caller). */
  #std(id: string | null, entries: string[], timestamp = nowSeconds()): Array<[string, string]> {
    const headers: Array<[string, string]> = [
      ["content-type", "application/json"],
      ["webhook-timestamp", String(timestamp)],
      ["webhook-signature", entries.join(" ")],
    ];
    if (id !== null) headers.push(["webhook-id", id]);
    return headers;
  }

  #junkEntry(): string {
    return this.rng.pick([
      () => `v1,${this.rng.bytes(32).toString("base64")}`, // well-formed, signed by nobody
      () => `v1a,${this.rng.bytes(64).toString("base64")}`,
      () => `v2,${this.rng.text(20, B64)}`,
      () => this.rng.text(this.rng.int(1, 30), B64),
      () => `v1,${this.rng.text(this.rng.int(1, 60), B64)}`,
    ])();
  }

  /** Kind → [weight, generator]. */
  readonly #kinds: Record<string, [number, () => Omit<HostileRequest, "kind">]> = {
    // ---- valid signed events, interleaved all through the run ----
    valid: [
      6,
      () => {
        const id = this.#id("v");
        return this.#valid(U(this.#event(id)), `demo:${id}`, { noise: this.rng.chance(0.3) });
      },
    ],
    "valid-odd-headers": [
      4,
      () => {
        const id = this.#id("v");
        return this.#valid(U(this.#event(id)), `demo:${id}`, { noise: true });
      },
    ],
    "valid-chunked": [
      1.5,
      () => {
        const id = this.#id("v");
        const body = U(this.#event(id));
        const pieces: Buffer[] = [];
        for (let at = 0; at < body.length;) {
          const n = this.rng.int(1, body.length - at);
          pieces.push(body.subarray(at, at + n));
          at += n;
        }
        const headers: Array<[string, string]> = [
          ["content-type", "application/json"],
          ["transfer-encoding", "chunked"],
          ...demoSignature(body),
        ];
        const bytes = Buffer.concat([this.#head(EVENTS_PATH, headers), chunked(pieces)]);
        return { transport: "keepalive", bytes, size: bytes.length, expect: ["202 accepted"], eventKey: `demo:${id}` };
      },
    ],
    "valid-odd-json": [
      3,
      () => {
        const id = this.#id("v");
        const r = this.rng;
        const variants: Array<() => [Buffer, string]> = [
          () => [Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), U(this.#event(id))]), `demo:${id}`], // one BOM
          () => [U(this.#event(id, { emoji: "\u{1F600}" }).replace("}}", ',"pair":"\\ud83d\\ude00"}}')), `demo:${id}`],
          () => [
            U(this.#event(id, { constructor: "x", proto: 1, note: "__proto__", __proto: 2, proto__: 3 })),
            `demo:${id}`,
          ],
          () => [U(this.#event(id).replace('"data":{', '"data":{"constructor":{"name":"y"},')), `demo:${id}`],
          () => [U(this.#deep(id, MAX_DEPTH - 2, r.chance(0.5))), `demo:${id}`], // exactly 32 levels
          () => [U(this.#wide(id, MAX_NODES - 5)), `demo:${id}`], // exactly 10,000 keys and elements
          () => [
            U(
              this.#event(id).replace(
                "}}",
                ',"big":1e400,"neg":-1e400,"tiny":1e-400,"long":123456789012345678901234567890,"z":-0}}',
              ),
            ),
            `demo:${id}`,
          ],
          () => [U(JSON.stringify(JSON.parse(this.#event(id)), null, "\t").replace(/\n/g, "\r\n \t")), `demo:${id}`],
          () => [U(this.#event(id, { ключ: "значение", "\u0000nul": "a\u0000b", "": "" })), `demo:${id}`],
          () => {
            const body = U(this.#event(null, { nonce: this.rng.text(16, ALNUM) })); // keyed by its hash
            return [body, `demo:sha256:${sha256(body)}`];
          },
          () => [
            U(this.#event(id).replace('{"event":"link.clicked"', '{"event":"x.y","event":"link.clicked"')),
            `demo:${id}`,
          ],
        ];
        const [body, key] = r.pick(variants)();
        return this.#valid(body, key, { noise: r.chance(0.3) });
      },
    ],
    "valid-std": [
      2.5,
      () => {
        const id = this.#id("v");
        const body = U(this.#event(id));
        const ts = nowSeconds();
        // Up to the scheme's limit of entries, the valid one anywhere among them, at most 4 v1a.
        const entries: string[] = [];
        let v1a = 0;
        for (let i = this.rng.int(0, MAX_SIGNATURE_ENTRIES - 1); i > 0; i--) {
          let entry = this.#junkEntry();
          if (entry.startsWith("v1a,") && ++v1a > MAX_V1A_ENTRIES)
            entry = `v1,${this.rng.bytes(32).toString("base64")}`;
          // The header stays under the length a scheme reads, with room for the valid entry.
          if ([...entries, entry].join(" ").length > MAX_HEADER_CHARS - 60) break;
          entries.push(entry);
        }
        entries.splice(this.rng.int(0, entries.length), 0, stdEntry(id, ts, body));
        return this.#keepalive(STD_PATH, this.#std(id, entries, ts), body, {
          expect: ["202 accepted"],
          eventKey: `std:${id}`,
        });
      },
    ],

    "valid-std-at-limit": [
      1,
      () => {
        // Exactly the scheme's limit of entries (of them up to its limit of v1a), the valid one anywhere.
        const id = this.#id("v");
        const body = U(this.#event(id));
        const ts = nowSeconds();
        const v1a = this.rng.int(0, MAX_V1A_ENTRIES);
        const entries = Array.from({ length: MAX_SIGNATURE_ENTRIES - 1 }, (_, i) =>
          i < v1a ? `v1a,${this.rng.bytes(64).toString("base64")}` : `v1,${this.rng.bytes(32).toString("base64")}`,
        );
        entries.splice(this.rng.int(0, entries.length), 0, stdEntry(id, ts, body));
        return this.#keepalive(STD_PATH, this.#std(id, entries, ts), body, {
          expect: ["202 accepted"],
          eventKey: `std:${id}`,
        });
      },
    ],

    // ---- replays of a valid signed request, and senders' retries ----
    "replay-new-id": [
      2.5,
      () => {
        const index = this.rng.pick(this.#validDemo);
        const { path, headers, body } = this.requests[index]!.parts ?? this.#partsOfChunked(index);
        const fresh = headers.filter(([k]) => k.toLowerCase() !== "x-webhook-id");
        fresh.push(["x-webhook-id", `replayed-${this.rng.text(12, ALNUM)}`]);
        return this.#keepalive(path, fresh, body, { expect: ["200 duplicate"], repeats: index });
      },
    ],
    "replay-exact": [
      1,
      () => {
        const index = this.rng.pick(this.#validDemo);
        const { path, headers, body } = this.requests[index]!.parts ?? this.#partsOfChunked(index);
        return this.#keepalive(path, headers, body, { expect: ["200 duplicate"], repeats: index });
      },
    ],
    "retry-resigned": [
      1,
      () => {
        const index = this.rng.pick(this.#validDemo);
        const { body } = this.requests[index]!.parts ?? this.#partsOfChunked(index);
        const headers: Array<[string, string]> = [
          ["content-type", "application/json"],
          ...demoSignature(body, { timestamp: nowSeconds() + this.rng.int(1, 30) }),
        ];
        return this.#keepalive(EVENTS_PATH, headers, body, { expect: ["200 duplicate"], repeats: index });
      },
    ],
    "replay-std-new-id": [
      1,
      () => {
        const index = this.rng.pick(this.#validStd);
        const { headers, body } = this.requests[index]!.parts!;
        const fresh = headers.map(([k, v]): [string, string] => [k, k === "webhook-id" ? this.#id("h") : v]);
        return this.#keepalive(STD_PATH, fresh, body, { expect: ["401 signature_mismatch"], repeats: index });
      },
    ],
    "retry-std-same-id": [
      0.5,
      () => {
        const index = this.rng.pick(this.#validStd);
        const { headers, body } = this.requests[index]!.parts!;
        const id = headers.find(([k]) => k === "webhook-id")![1];
        const ts = nowSeconds() + this.rng.int(1, 30);
        return this.#keepalive(STD_PATH, this.#std(id, [stdEntry(id, ts, body)], ts), body, {
          expect: ["200 duplicate"],
          repeats: index,
        });
      },
    ],

    // ---- signature and timestamp headers: missing, garbled, duplicated, at and over the limits ----
    "sig-missing": [
      3,
      () => {
        const body = U(this.#event(this.#id("h")));
        const headers: Array<[string, string]> = [["content-type", "application/json"], ...demoSignature(body)];
        const i = headers.findIndex(([k]) => k === "x-webhook-signature");
        if (this.rng.chance(0.5)) headers.splice(i, 1);
        else headers[i] = ["x-webhook-signature", this.rng.pick(["", " ", "\t \t"])];
        return this.#keepalive(EVENTS_PATH, headers, body, { expect: ["401 signature_missing"] });
      },
    ],
    "sig-garbled": [
      4,
      () => {
        const body = U(this.#event(this.#id("h")));
        const r = this.rng;
        const garbage = r.pick([
          () => r.text(64, HEX),
          () => r.text(r.pick([63, 65, 32, 128]), HEX),
          () => `sha256=${r.text(64, HEX)}`,
          () => r.text(r.int(1, 200), VISIBLE).trim() || "x",
          () => "f".repeat(MAX_HEADER_CHARS + r.int(1, 3000)),
          () => r.text(64, "ghijklmnopqrstuvwxyz"),
        ])();
        const headers = demoSignature(body).map(([k, v]): [string, string] => [
          k,
          k === "x-webhook-signature" ? garbage : v,
        ]);
        return this.#keepalive(EVENTS_PATH, [["content-type", "application/json"], ...headers], body, {
          expect: ["401 signature_mismatch"],
        });
      },
    ],
    "sig-duplicated": [
      2,
      () => {
        const body = U(this.#event(this.#id("h")));
        const [ts, sig] = demoSignature(body);
        const other = this.rng.chance(0.5) ? sig![1] : this.rng.text(64, HEX);
        const sigs: Array<[string, string]> = [sig!, ["x-webhook-signature", other]];
        if (this.rng.chance(0.5)) sigs.reverse();
        return this.#keepalive(EVENTS_PATH, [["content-type", "application/json"], ts!, ...sigs], body, {
          expect: ["401 signature_mismatch"],
        });
      },
    ],
    "sig-wrong-secret": [
      2,
      () => {
        const body = U(this.#event(this.#id("h")));
        const secret = this.rng.pick([`not-${DEMO_SECRET}`, DEMO_SECRET.toUpperCase(), "", STD_SECRET]);
        const headers: Array<[string, string]> = [
          ["content-type", "application/json"],
          ["x-webhook-timestamp", String(nowSeconds())],
        ];
        const mac = createHmac("sha256", secret).update(`${headers[1]![1]}.`).update(body).digest("hex");
        headers.push(["x-webhook-signature", mac]);
        return this.#keepalive(EVENTS_PATH, headers, body, { expect: ["401 signature_mismatch"] });
      },
    ],
    "sig-body-tampered": [
      2,
      () => {
        const signed = U(this.#event(this.#id("h")));
        const sent = Buffer.from(signed);
        const at = this.rng.int(0, sent.length - 1);
        sent[at] = sent[at] === 0x20 ? 0x09 : 0x20; // one byte changed
        return this.#keepalive(
          EVENTS_PATH,
          [["content-type", "application/json"], ...demoSignature(signed)],
          this.rng.chance(0.3) ? Buffer.concat([signed, A(" ")]) : sent,
          { expect: ["401 signature_mismatch"] },
        );
      },
    ],
    "ts-missing": [
      1.5,
      () => {
        const body = U(this.#event(this.#id("h")));
        const headers = demoSignature(body).filter(([k]) => k !== "x-webhook-timestamp");
        return this.#keepalive(EVENTS_PATH, [["content-type", "application/json"], ...headers], body, {
          expect: ["401 timestamp_missing"],
        });
      },
    ],
    "ts-invalid": [
      2,
      () => {
        const body = U(this.#event(this.#id("h")));
        const ts = this.rng.pick([
          "abc",
          "NaN",
          "1.5",
          `${nowSeconds()}.0`,
          "0x65f0a000",
          "1e9",
          "Infinity",
          "+1700000000",
        ]);
        const mac = createHmac("sha256", DEMO_SECRET).update(`${ts}.`).update(body).digest("hex");
        return this.#keepalive(
          EVENTS_PATH,
          [
            ["content-type", "application/json"],
            ["x-webhook-timestamp", ts],
            ["x-webhook-signature", mac],
          ],
          body,
          { expect: ["401 timestamp_invalid"] },
        );
      },
    ],
    "ts-out-of-tolerance": [
      2,
      () => {
        const body = U(this.#event(this.#id("h")));
        const off = TOLERANCE_SECONDS + this.rng.int(30, 10_000_000);
        const ts = nowSeconds() + (this.rng.chance(0.5) ? off : -off);
        return this.#keepalive(
          EVENTS_PATH,
          [["content-type", "application/json"], ...demoSignature(body, { timestamp: ts })],
          body,
          { expect: ["401 timestamp_out_of_tolerance"] },
        );
      },
    ],
    "ts-duplicated": [
      1,
      () => {
        const body = U(this.#event(this.#id("h")));
        const [ts, sig] = demoSignature(body);
        return this.#keepalive(EVENTS_PATH, [["content-type", "application/json"], ts!, ts!, sig!], body, {
          expect: ["401 timestamp_invalid"],
        });
      },
    ],
    "std-sig-junk-at-limit": [
      1,
      () => {
        const id = this.#id("h");
        const body = U(this.#event(id));
        const entries = Array.from(
          { length: MAX_SIGNATURE_ENTRIES },
          () => `v1,${this.rng.bytes(32).toString("base64")}`,
        );
        return this.#keepalive(STD_PATH, this.#std(id, entries), body, { expect: ["401 signature_mismatch"] });
      },
    ],
    "std-sig-over-limit": [
      1.5,
      () => {
        const id = this.#id("h");
        const body = U(this.#event(id));
        const ts = nowSeconds();
        // More entries than the scheme reads (the header still under its length cap), the valid one among them.
        const entries = Array.from(
          { length: this.rng.int(MAX_SIGNATURE_ENTRIES + 1, 21) - 1 },
          () => `v1,${this.rng.bytes(32).toString("base64")}`,
        );
        entries.splice(this.rng.int(0, entries.length), 0, stdEntry(id, ts, body));
        return this.#keepalive(STD_PATH, this.#std(id, entries, ts), body, { expect: ["401 signature_mismatch"] });
      },
    ],
    "std-sig-oversized": [
      0.5,
      () => {
        const id = this.#id("h");
        const body = U(this.#event(id));
        const ts = nowSeconds();
        const entries = [stdEntry(id, ts, body), `v2,${this.rng.text(MAX_HEADER_CHARS, B64)}`];
        return this.#keepalive(STD_PATH, this.#std(id, entries, ts), body, { expect: ["401 signature_mismatch"] });
      },
    ],
    "std-v1a-over-limit": [
      1,
      () => {
        const id = this.#id("h");
        const body = U(this.#event(id));
        const ts = nowSeconds();
        const entries = Array.from(
          { length: this.rng.int(MAX_V1A_ENTRIES + 1, 8) },
          () => `v1a,${this.rng.bytes(64).toString("base64")}`,
        );
        entries.splice(this.rng.int(0, entries.length), 0, stdEntry(id, ts, body));
        return this.#keepalive(STD_PATH, this.#std(id, entries, ts), body, { expect: ["401 signature_mismatch"] });
      },
    ],
    "std-id-missing": [
      0.5,
      () => {
        const body = U(this.#event(this.#id("h")));
        const ts = nowSeconds();
        return this.#keepalive(STD_PATH, this.#std(null, [stdEntry("x", ts, body)], ts), body, {
          expect: ["401 signature_mismatch"],
        });
      },
    ],
    "std-sig-duplicated": [
      1,
      () => {
        // Two webhook-signature lines, the valid one first: Node joins them ("a, b"), and the valid
        // entry gains the comma, so nothing verifies.
        const id = this.#id("h");
        const body = U(this.#event(id));
        const ts = nowSeconds();
        const headers = this.#std(id, [stdEntry(id, ts, body)], ts);
        headers.push(["webhook-signature", this.#junkEntry()]);
        return this.#keepalive(STD_PATH, headers, body, { expect: ["401 signature_mismatch"] });
      },
    ],

    // ---- content types ----
    "content-type-wrong": [
      4,
      () => {
        const body = U(this.#event(this.#id("h")));
        const headers: Array<[string, string]> = demoSignature(body);
        const ct = this.rng.pick([
          null,
          "",
          "text/plain",
          "application/x-www-form-urlencoded",
          "multipart/form-data; boundary=xyz",
          "application/xml",
          "application/jsonp",
          "application/json, text/plain",
          "json",
          "application/x-ndjson",
          "*/*",
          "text/json",
          "application/json-seq",
        ]);
        if (ct !== null) headers.push(["content-type", ct]);
        // A repeated Content-Type: Node keeps the first.
        if (ct !== null && this.rng.chance(0.2)) headers.push(["content-type", "application/json"]);
        return this.#keepalive(EVENTS_PATH, headers, body, { expect: ["415 unsupported_media_type"] });
      },
    ],

    // ---- bodies ----
    "body-truncated-signed-whole": [
      1.5,
      () => {
        const body = U(this.#event(this.#id("h")));
        const sent = body.subarray(0, this.rng.int(0, body.length - 1));
        return this.#keepalive(EVENTS_PATH, [["content-type", "application/json"], ...demoSignature(body)], sent, {
          expect: ["401 signature_mismatch"],
        });
      },
    ],
    "body-truncated-signed-as-sent": [
      1.5,
      () => {
        const body = U(this.#event(this.#id("h")));
        return this.#signedRefusal(body.subarray(0, this.rng.int(0, body.length - 1)), ["400 invalid_json"]);
      },
    ],
    "body-cut-off": [
      1,
      () => {
        // Content-Length promises the whole body; part of it comes, then the sender closes its side.
        const body = U(this.#event(this.#id("h")));
        const headers: Array<[string, string]> = [
          ["content-type", "application/json"],
          ...demoSignature(body),
          ["content-length", String(body.length)],
        ];
        return this.#oneshot(
          [this.#head(EVENTS_PATH, headers), body.subarray(0, this.rng.int(0, body.length - 1)), "end"],
          ["400 bad_request", "closed"],
        );
      },
    ],
    "body-oversized-content-length": [
      2,
      () => {
        const filler = this.rng.text(this.rng.int(DEMO_MAX_BODY + 1, 2 * DEMO_MAX_BODY), ALNUM);
        const body = U(this.#event(this.#id("h"), { filler }));
        const signed = this.rng.chance(0.5);
        const headers: Array<[string, string]> = [
          ["content-type", "application/json"],
          ...(signed ? demoSignature(body) : []),
        ];
        return this.#keepalive(EVENTS_PATH, headers, body, { expect: ["413 payload_too_large"] });
      },
    ],
    "body-oversized-declared": [
      1,
      () => {
        // A huge Content-Length and only a little body: refused before the body is read.
        const declared = String(this.rng.pick([DEMO_MAX_BODY + 1, 10 * 1024 * 1024, 2 ** 40, Number.MAX_SAFE_INTEGER]));
        const body = U(this.#event(this.#id("h")));
        const headers: Array<[string, string]> = [
          ["content-type", "application/json"],
          ...demoSignature(body),
          ["content-length", declared],
        ];
        return this.#oneshot(
          [this.#head(EVENTS_PATH, headers), body.subarray(0, this.rng.int(0, 100))],
          ["413 payload_too_large"],
        );
      },
    ],
    "body-oversized-chunked": [
      1.5,
      () => {
        const body = U(this.#event(this.#id("h")));
        const headers: Array<[string, string]> = [
          ["content-type", "application/json"],
          ["transfer-encoding", "chunked"],
          ...demoSignature(body),
        ];
        const total = this.rng.int(DEMO_MAX_BODY + 1, 3 * DEMO_MAX_BODY);
        const pieces: Buffer[] = [];
        for (let sent = 0; sent < total;) {
          const n = Math.min(total - sent, this.rng.int(512, 16 * 1024));
          pieces.push(Buffer.alloc(n, 0x20));
          sent += n;
        }
        return this.#oneshot([this.#head(EVENTS_PATH, headers), chunked(pieces)], ["413 payload_too_large"]);
      },
    ],
    "chunked-bad-size": [
      2,
      () => {
        const body = U(this.#event(this.#id("h")));
        const headers: Array<[string, string]> = [
          ["content-type", "application/json"],
          ["transfer-encoding", "chunked"],
          ...demoSignature(body),
        ];
        const bad = this.rng.pick([
          () => A(`zz\r\n${body}\r\n0\r\n\r\n`),
          () => A(`-1\r\n${body}\r\n0\r\n\r\n`),
          () => A(`ffffffffffffffffffff\r\n${body}\r\n0\r\n\r\n`),
          () => A(`0x10\r\n${body}\r\n0\r\n\r\n`),
          () => A(`${body.length.toString(16)}\r\n${body}XX\r\n0\r\n\r\n`), // data longer than its size
          () => A(`${body.length.toString(16)}\r\n${body}0\r\n\r\n`), // no CRLF after the data
          () => A(`${(body.length + 2).toString(16)}\r\n${body}\r\nZ\r\n0\r\n\r\n`), // the CRLF eaten as data
          () => Buffer.concat([A("5\r\n"), this.rng.bytes(5), A("\r\ng"), this.rng.bytes(7), A("\r\n")]),
        ])();
        return this.#oneshot([this.#head(EVENTS_PATH, headers), bad], ["400 bad_request"]);
      },
    ],
    "framing-conflict": [
      1,
      () => {
        const body = U(this.#event(this.#id("h")));
        const sig = demoSignature(body);
        const variants: Array<Array<[string, string]>> = [
          [
            ["transfer-encoding", "chunked"],
            ["content-length", String(body.length)],
          ],
          [
            ["content-length", String(body.length)],
            ["content-length", String(body.length + 1)],
          ],
          [["transfer-encoding", "identity"]],
          [["transfer-encoding", "chunked, gzip"]],
          [["content-length", "-1"]],
          [["content-length", "99999999999999999999999"]],
          [["content-length", "12abc"]],
        ];
        const headers: Array<[string, string]> = [
          ["content-type", "application/json"],
          ...sig,
          ...this.rng.pick(variants),
        ];
        return this.#oneshot([this.#head(EVENTS_PATH, headers), body], ["400 bad_request"]);
      },
    ],
    "json-too-deep": [
      2.5,
      () => {
        const id = this.#id("h");
        const array = this.rng.chance(0.5);
        // One level over the limit, or far over it.
        const extra = this.rng.chance(0.3) ? MAX_DEPTH - 1 : this.rng.int(MAX_DEPTH - 1, array ? 10_000 : 1_000);
        return this.#signedRefusal(U(this.#deep(id, extra, array)), ["400 json_limits_exceeded"]);
      },
    ],
    "json-too-wide": [
      1.5,
      () => {
        const n = this.rng.chance(0.3) ? MAX_NODES - 4 : this.rng.int(MAX_NODES - 4, 12_000);
        return this.#signedRefusal(U(this.#wide(this.#id("h"), n)), ["400 json_limits_exceeded"]);
      },
    ],
    "invalid-utf8": [
      2,
      () => {
        const bad = this.rng.pick([
          [0xc3, 0x28],
          [0xff],
          [0xc0, 0xaf],
          [0xf8, 0x88, 0x80, 0x80, 0x80],
          [0xe2, 0x82],
          [0x80],
          [0xf4, 0x90, 0x80, 0x80],
        ]);
        const [head, tail] = this.#event(this.#id("h"), { v: "@@" }).split("@@");
        return this.#signedRefusal(Buffer.concat([U(head!), Buffer.from(bad), U(tail!)]), ["400 invalid_json"]);
      },
    ],
    "lone-surrogate-escaped": [
      1.5,
      () => {
        const s = this.rng.pick(["\\ud800", "\\udfff", "\\uD83D", "\\ud800\\u0041", "x\\udc00y"]);
        const text = this.rng.chance(0.5)
          ? this.#event(this.#id("h"), { v: "@@" }).replace("@@", s)
          : this.#event(this.#id("h")).replace('"data":{', `"data":{"${s}":1,`);
        return this.#signedRefusal(U(text), ["400 invalid_json"]);
      },
    ],
    "lone-surrogate-raw": [
      1,
      () => {
        const raw = this.rng.pick([
          [0xed, 0xa0, 0x80],
          [0xed, 0xbf, 0xbf],
          [0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80],
        ]);
        const [head, tail] = this.#event(this.#id("h"), { v: "@@" }).split("@@");
        return this.#signedRefusal(Buffer.concat([U(head!), Buffer.from(raw), U(tail!)]), ["400 invalid_json"]);
      },
    ],
    "prototype-keys": [
      2.5,
      () => {
        const id = this.#id("h");
        const text = this.rng.pick([
          `{"__proto__":{"polluted":true},"event":"link.clicked","event_id":"${id}","data":{}}`,
          `{"event":"link.clicked","event_id":"${id}","data":{"__proto__":{"isAdmin":true}}}`,
          `{"event":"link.clicked","event_id":"${id}","data":{"a":[{"b":{"__proto__":1}}]}}`,
          `{"event":"link.clicked","event_id":"${id}","data":{"\\u005f\\u005fproto\\u005f\\u005f":{"x":1}}}`,
          `{"event":"link.clicked","event_id":"${id}","data":{"constructor":{"prototype":{"x":1}}}}`,
          `{"event":"link.clicked","event_id":"${id}","data":{"\\u0063onstructor":{"prototype":null}}}`,
          `{"event":"link.clicked","event_id":"${id}","data":{"x":{"constructor":{"prototype":{}}}}}`,
          `{"event":"link.clicked","event_id":"${id}","data":{"__PROTO__":1,"__proto__"  :  []}}`,
        ]);
        return this.#signedRefusal(U(text), ["400 invalid_json"]);
      },
    ],
    "huge-numbers-in-envelope": [
      1,
      () => {
        const id = this.#id("h");
        const text = this.rng.pick([
          `{"event":"link.clicked","event_id":123456789012345678901234567890,"data":{}}`,
          `{"event":"link.clicked","event_id":9007199254740993,"data":{}}`,
          `{"event":"link.clicked","event_id":"${id}","timestamp":1e400,"data":{}}`,
          `{"event":"link.clicked","event_id":"${id}","timestamp":-1,"data":{}}`,
          `{"event":"link.clicked","event_id":1e400,"data":{}}`,
        ]);
        return this.#signedRefusal(U(text), ["422 schema_violation"]);
      },
    ],
    "empty-body": [
      1.5,
      () => {
        const empty = Buffer.alloc(0);
        switch (this.rng.int(0, 2)) {
          case 0:
            return this.#signedRefusal(empty, ["400 invalid_json"]);
          case 1:
            return this.#keepalive(EVENTS_PATH, [["content-type", "application/json"]], empty, {
              expect: ["401 signature_missing"],
            });
          default: {
            const headers: Array<[string, string]> = [
              ["content-type", "application/json"],
              ["transfer-encoding", "chunked"],
              ...demoSignature(empty),
            ];
            const bytes = Buffer.concat([this.#head(EVENTS_PATH, headers), chunked([])]);
            return { transport: "keepalive", bytes, size: bytes.length, expect: ["400 invalid_json"] };
          }
        }
      },
    ],
    "not-an-object": [
      1,
      () =>
        this.#signedRefusal(U(this.rng.pick(["[]", '"x"', "null", "42", "true", "[{}]", '"{}"'])), [
          "422 schema_violation",
        ]),
    ],
    "schema-violation": [
      2,
      () => {
        const id = this.#id("h");
        const text = this.rng.pick([
          `{"event":"link.clicked.>","event_id":"${id}","data":{}}`,
          `{"event":"link.*","event_id":"${id}","data":{}}`,
          `{"event":"link clicked","event_id":"${id}","data":{}}`,
          `{"event":"${"a".repeat(101)}","event_id":"${id}","data":{}}`,
          `{"event_id":"${id}","data":{}}`,
          `{"event":"","event_id":"${id}","data":{}}`,
          `{"event":"link.clicked","event_id":"","data":{}}`,
          `{"event":"link.clicked","event_id":"${"x".repeat(257)}","data":{}}`,
          `{"event":"link.clicked","event_id":"${id}","data":{"link_id":42}}`,
          `{"event":"link.clicked","event_id":"${id}","timestamp":"yesterday","data":{}}`,
          `{"event":"link.clicked","event_id":"${id}","timestamp":"2026-13-45T99:99:99Z","data":{}}`,
          `{"event":["link.clicked"],"event_id":"${id}","data":{}}`,
        ]);
        return this.#signedRefusal(U(text), ["422 schema_violation"]);
      },
    ],
    "garbage-body": [
      2,
      () => this.#signedRefusal(this.rng.bytes(this.rng.int(8, 2000)), ["400 invalid_json", "422 schema_violation"]),
    ],

    // ---- routes, methods and URLs ----
    "unknown-source": [
      2,
      () => {
        const body = U(this.#event(this.#id("h")));
        const source = this.rng.pick([
          `x${this.rng.text(this.rng.int(0, 31), ALNUM)}`,
          "DEMO",
          "%20demo",
          "demo%00",
          "std2",
          "..%2F..%2Fdemo",
          encodeURIComponent("démo"),
        ]);
        return this.#keepalive(
          `/v1/sources/${source}/events`,
          [["content-type", "application/json"], ...demoSignature(body)],
          body,
          {
            expect: ["404 unknown_source"],
          },
        );
      },
    ],
    "source-id-too-long": [
      0.5,
      () => {
        const body = U(this.#event(this.#id("h")));
        const path = `/v1/sources/${this.rng.text(this.rng.int(101, 2000), ALNUM)}/events`;
        return this.#keepalive(path, [["content-type", "application/json"], ...demoSignature(body)], body, {
          expect: ["404 unknown_source"],
        });
      },
    ],
    "bad-url-encoding": [
      1,
      () => {
        const body = U(this.#event(this.#id("h")));
        const source = this.rng.pick(["%zz", "%", "%e0%a4", "demo%", "%ff"]);
        return this.#keepalive(
          `/v1/sources/${source}/events`,
          [["content-type", "application/json"], ...demoSignature(body)],
          body,
          {
            expect: ["400 bad_request"],
          },
        );
      },
    ],
    "odd-path": [
      1.5,
      () => {
        const body = U(this.#event(this.#id("h")));
        const path = this.rng.pick([
          `${EVENTS_PATH}/`,
          `/${EVENTS_PATH}`,
          "/V1/sources/demo/events",
          "/v1/sources/demo/../demo/events",
          "/v1/sources/demo",
          "/v1/sources/demo/event",
          "/v1/sources/demo/events/extra",
          "/healthz",
          "/v1/stats",
          "/metrics",
          `/${this.rng.text(this.rng.int(1, 200), ALNUM)}`,
        ]);
        return this.#keepalive(path, [["content-type", "application/json"], ...demoSignature(body)], body, {
          expect: ["404 route_not_found"],
        });
      },
    ],
    "odd-method": [
      1.5,
      () => {
        const method = this.rng.pick(["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]);
        const body = method === "GET" || method === "HEAD" ? Buffer.alloc(0) : U(this.#event(this.#id("h")));
        const request = this.#keepalive(
          EVENTS_PATH,
          [["content-type", "application/json"], ...demoSignature(body)],
          body,
          { expect: ["404 route_not_found"] },
          method,
        );
        return {
          ...request,
          head: method === "HEAD",
          expect: [method === "HEAD" ? "404 (HEAD)" : "404 route_not_found"],
        };
      },
    ],
    batch: [
      1.5,
      () => {
        const r = this.rng;
        switch (r.int(0, 3)) {
          case 0: {
            const body = U([this.#event(this.#id("h")), this.#event(this.#id("h"))].join("\n"));
            const headers: Array<[string, string]> = [["content-type", "application/x-ndjson"], ...demoSignature(body)];
            return this.#keepalive("/v1/sources/std/batch", headers, body, { expect: ["404 batch_not_enabled"] });
          }
          case 1: {
            const [ct, text, expect] = r.pick([
              ["application/json", "[]", ["400 invalid_batch"]],
              ["application/json", "{}", ["400 invalid_batch"]],
              ["application/json", '"x"', ["400 invalid_batch"]],
              ["application/json", "[1,2", ["400 invalid_batch"]],
              ["application/x-ndjson", "\n\n", ["400 invalid_batch"]],
              ["application/x-ndjson", "", ["400 invalid_batch", "400 invalid_json"]],
            ] as const);
            const body = U(text);
            const headers: Array<[string, string]> = [["content-type", ct], ...demoSignature(body)];
            return this.#keepalive("/v1/sources/demo/batch", headers, body, { expect });
          }
          case 2: {
            // Items that each fail on their own: 200 partial, nothing stored.
            const items = [
              "{",
              '{"__proto__":{}}',
              `{"event":"a b"}`,
              '{"event":"link.clicked","data":{"v":"\\ud800"}}',
            ];
            const body = U(items.join("\n"));
            const headers: Array<[string, string]> = [["content-type", "application/x-ndjson"], ...demoSignature(body)];
            return this.#keepalive("/v1/sources/demo/batch", headers, body, { expect: ["200 partial"] });
          }
          default: {
            // More items than the source's batch.maxItems, within its bytes.
            const body = U(
              `[${new Array<string>(r.int(DEMO_BATCH_ITEMS + 1, 2 * DEMO_BATCH_ITEMS)).fill(this.#event(this.#id("h"))).join(",")}]`,
            );
            const headers: Array<[string, string]> = [["content-type", "application/json"], ...demoSignature(body)];
            return this.#keepalive("/v1/sources/demo/batch", headers, body, { expect: ["413 batch_too_large"] });
          }
        }
      },
    ],

    // ---- HTTP itself broken, on fresh connections ----
    "malformed-http": [
      3,
      () => {
        const body = this.#event(this.#id("h"));
        const line = `POST ${EVENTS_PATH} HTTP/1.1\r\nhost: x\r\n`;
        const tail = `content-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
        const bad = ["400 bad_request"];
        const [bytes, expect] = this.rng.pick<[() => Buffer, readonly string[]]>([
          [() => A(`P@ST ${EVENTS_PATH} HTTP/1.1\r\nhost: x\r\n${tail}`), bad],
          [() => A(`FOO ${EVENTS_PATH} HTTP/1.1\r\nhost: x\r\n${tail}`), bad],
          [() => A("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), bad],
          [() => A(`${line}x-no-colon\r\n${tail}`), bad],
          [() => A(`${line}x-a: b\u0000c\r\n${tail}`), bad],
          [() => A(`${line}x-a: b\rc\r\n${tail}`), bad],
          [() => A(`${line}x-a : b\r\n${tail}`), bad],
          [() => A(`${line}x-a: b\r\n  folded\r\n${tail}`), bad],
          [() => A(`POST ${EVENTS_PATH} HTTP/1.1\nhost: x\n${tail.replace(/\r\n/g, "\n")}`), bad],
          [() => A(`POST ${EVENTS_PATH} HTTP/9.9\r\nhost: x\r\n${tail}`), bad],
          [() => A(`POST ${EVENTS_PATH} HTTP/1.1x\r\nhost: x\r\n${tail}`), bad],
          [() => A(`POST ${EVENTS_PATH} HTTP/1.1\r\n${tail}`), bad], // HTTP/1.1 without Host
          [() => Buffer.concat([this.rng.bytes(this.rng.int(1, 300)), A("\r\n\r\n")]), bad],
          [() => A(`${this.rng.text(this.rng.int(1, 100), VISIBLE)}\r\n\r\n`), bad],
          // No HTTP version: Node's parser takes it as a request (an unsigned one here).
          [() => A(`POST ${EVENTS_PATH}\r\nhost: x\r\n${tail}`), ["401 signature_missing", ...bad]],
        ]);
        return this.#oneshot([bytes()], expect);
      },
    ],
    "expect-unmet": [
      0.5,
      () => {
        const body = U(this.#event(this.#id("h")));
        const headers: Array<[string, string]> = [
          ["content-type", "application/json"],
          ...demoSignature(body),
          // Node honours any value holding the token 100-continue; these hold none.
          ["expect", this.rng.pick(["200-ok", "x", "foo=bar", "100-continuex"])],
          ["content-length", String(body.length)],
        ];
        return this.#oneshot([this.#head(EVENTS_PATH, headers), body], ["417 expectation_failed"]);
      },
    ],
    "headers-too-large": [
      1,
      () => {
        const body = U(this.#event(this.#id("h")));
        const headers: Array<[string, string]> = [["content-type", "application/json"], ...demoSignature(body)];
        if (this.rng.chance(0.5)) headers.push(["x-big", this.rng.text(this.rng.int(17 * 1024, 64 * 1024), ALNUM)]);
        else for (let i = 0; i < 1500; i++) headers.push([`x-h${i}`, this.rng.text(10, ALNUM)]);
        return this.#oneshot([this.#head(EVENTS_PATH, headers), body], ["431 headers_too_large"]);
      },
    ],
  };

  /** The parts of a chunked valid event (replays resend it with a Content-Length). */
  #partsOfChunked(index: number): { path: string; headers: Array<[string, string]>; body: Buffer } {
    const bytes = this.requests[index]!.bytes!;
    const headEnd = bytes.indexOf("\r\n\r\n");
    const lines = bytes.subarray(0, headEnd).toString("latin1").split("\r\n").slice(2);
    const headers = lines
      .map((l): [string, string] => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1).trim()])
      .filter(([k]) => k !== "transfer-encoding");
    const body: Buffer[] = [];
    let at = headEnd + 4;
    for (;;) {
      const lineEnd = bytes.indexOf("\r\n", at);
      const size = parseInt(bytes.subarray(at, lineEnd).toString("latin1"), 16);
      if (size === 0) break;
      body.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
    return { path: EVENTS_PATH, headers, body: Buffer.concat(body) };
  }
}
