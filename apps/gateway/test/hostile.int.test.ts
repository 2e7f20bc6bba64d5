import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectNats } from "@tributary/streams";
import {
  freePorts,
  postToGateway,
  signWebhook,
  sleep,
  startNatsServer,
  startService,
  waitFor,
  type NatsServer,
  type Service,
} from "@tributary/testkit";
import {
  DEMO_BATCH_BYTES,
  DEMO_BATCH_ITEMS,
  DEMO_MAX_BODY,
  DEMO_OLD_SECRET,
  DEMO_SECRET,
  HostileCases,
  STD_MAX_BODY,
  STD_SECRET,
  TOLERANCE_SECONDS,
  type HostileRequest,
} from "./hostile/cases.js";
import { Prng, prngStart } from "./hostile/prng.js";
import { rawExchange, RawConnection, requestBytes, type RawAnswer, type Step } from "./hostile/raw-http.js";
import { judge, Tally } from "./hostile/tally.js";

/**
 * A hostile client against the gateway as it runs in production: its own process (dist/main.js)
 * on a loopback port, in front of a real nats-server, attacked over real sockets by requests drawn
 * from a PRNG (HOSTILE_PRNG repeats a run; the table prints the state it started from).
 *
 * Why a child process: a crash is then a process that exits, not an exception in the test's own
 * worker; the pressure guard and the server's timeouts measure the gateway's event loop, not the
 * load generator's; and its memory is its own. Memory is read inside the gateway after forced full
 * GCs (a preload, gc-on-signal.ts, answers SIGUSR2 with process.memoryUsage()): heap in use after
 * a full GC is what the run retained, where RSS is not reliable for that (V8 and malloc keep freed
 * pages, so RSS stays near its peak after a burst whether or not anything leaked). Buffers, where
 * request bodies live, are outside the heap: `arrayBuffers` is held to its own bound. RSS from
 * /proc is printed beside them and bounded only loosely, against gross native growth.
 *
 * What is asserted, over every exchange: the answer is one the case allows (hostile/cases.ts
 * lists each kind with its expected status and code); every refusal is `{ error: { code } }`
 * with a code of GATEWAY_ERRORS and that code's status, no 5xx but the catalogue's 503s; valid
 * events are 202 under their key, replays and retries 200 duplicate of the original. Afterwards:
 * the process never exited and answers /healthz, the regional stream holds exactly the valid
 * events, each once, the gateway's own counters agree with the senders', memory is back.
 */

const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const GC_PRELOAD = pathToFileURL(fileURLToPath(new URL("./hostile/gc-on-signal.ts", import.meta.url))).href;

/** Short server timeouts, so slow senders and idle sockets are cut within the run. */
const HEADERS_TIMEOUT_MS = 1000;
const REQUEST_TIMEOUT_MS = 2000;
/** How late a cut may come past its timeout on two busy cores (Node checks every 250 ms here). */
const SLACK_MS = 1500;

const REQUESTS = 10_000;
/** Requests sent before the memory baseline (the gateway's code paths warmed up first). */
const WARM_UP = 1_500;
const CONCURRENCY = 12;
const SLOW_SENDERS = 40;
const FLOOD_SOCKETS = 500;
const REAL_SENDERS = 3;

/** After the run, memory after a full GC may exceed the baseline by at most this much. */
const MAX_HEAP_GROWTH = 24 * 1024 * 1024;
const MAX_ARRAY_BUFFERS_GROWTH = 8 * 1024 * 1024;
/** RSS only catches gross native growth (sockets, buffers never freed): allocators keep freed pages. */
const MAX_RSS_GROWTH = 128 * 1024 * 1024;

interface Memory {
  sample: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  /** From /proc: resident now, and at its peak. */
  rss: number;
  hwm: number;
}

describe("a hostile client against a running gateway", () => {
  let nats: NatsServer | undefined;
  let gateway: Service | undefined;
  let observer: NatsConnection | undefined;
  let dir: string;
  let port: number;
  let url: string;
  let opsUrl: string;
  const start = prngStart();
  const tally = new Tally();
  /** Event key → stream sequence, for every 202 (and every 200 that followed a lost PubAck). */
  const acknowledged = new Map<string, number>();
  /** Every key sent as a valid event. */
  const validKeys = new Set<string>();
  const notes: string[] = [];
  let baseline: Memory | undefined;

  beforeAll(async () => {
    nats = await startNatsServer({ domain: "us" });
    dir = mkdtempSync(join(tmpdir(), "gw-hostile-"));
    const [ingestPort, opsPort] = await freePorts(2);
    port = ingestPort!;
    url = `http://127.0.0.1:${port}`;
    opsUrl = `http://127.0.0.1:${opsPort}`;
    writeFileSync(
      join(dir, "gateway.json"),
      JSON.stringify({
        region: "us",
        port,
        opsPort,
        logLevel: "warn",
        http: { headersTimeoutMs: HEADERS_TIMEOUT_MS, requestTimeoutMs: REQUEST_TIMEOUT_MS },
        nats: { servers: [nats.url] },
        stream: { maxBytes: 256 * 1024 * 1024 },
        sources: {
          demo: {
            scheme: { type: "webhook-hmac-sha256" },
            secrets: [
              { id: "current", env: "HOSTILE_DEMO_SECRET" },
              { id: "previous", env: "HOSTILE_DEMO_OLD_SECRET" },
            ],
            toleranceSeconds: TOLERANCE_SECONDS,
            maxBodyBytes: DEMO_MAX_BODY,
            batch: { maxItems: DEMO_BATCH_ITEMS, maxBodyBytes: DEMO_BATCH_BYTES },
          },
          std: {
            scheme: { type: "standard-webhooks" },
            secrets: [{ id: "s1", env: "HOSTILE_STD_SECRET" }],
            toleranceSeconds: TOLERANCE_SECONDS,
            maxBodyBytes: STD_MAX_BODY,
          },
        },
      }),
    );
    gateway = await startService({
      name: "gateway",
      entry: MAIN,
      env: {
        TRIBUTARY_CONFIG: join(dir, "gateway.json"),
        HOSTILE_DEMO_SECRET: DEMO_SECRET,
        HOSTILE_DEMO_OLD_SECRET: DEMO_OLD_SECRET,
        HOSTILE_STD_SECRET: STD_SECRET,
        HOSTILE_MEMORY_FILE: join(dir, "memory.json"),
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --expose-gc --import ${GC_PRELOAD}`.trim(),
      },
      readyUrl: `${url}/readyz`,
    });
    observer = await connectNats({ servers: [nats.url], name: "hostile-observer" });
  });

  afterAll(async () => {
    console.log(
      [
        `hostile gateway run, PRNG start 0x${start.toString(16)} (HOSTILE_PRNG=0x${start.toString(16)} repeats it)`,
        tally.render(),
        ...notes,
        ...(tally.unexpected.length > 0 ? ["unexpected answers:", ...tally.unexpected.map((u) => `  ${u}`)] : []),
      ].join("\n"),
    );
    await gateway?.stop();
    await observer?.close();
    await nats?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Forces full GCs in the gateway and reads its memory then, with its RSS from /proc. */
  async function gatewayMemory(): Promise<Memory> {
    const file = join(dir, "memory.json");
    const read = (): Memory | undefined => {
      try {
        return JSON.parse(readFileSync(file, "utf8")) as Memory;
      } catch {
        return undefined;
      }
    };
    const before = read()?.sample ?? 0;
    gateway!.process.kill("SIGUSR2");
    const memory = await waitFor("the gateway's memory sample", () => {
      const m = read();
      return m && m.sample > before ? m : undefined;
    });
    const status = readFileSync(`/proc/${gateway!.process.pid}/status`, "utf8");
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) * 1024;
    return { ...memory, rss: kib("VmRSS"), hwm: kib("VmHWM") };
  }

  /**
   * Sends one generated request (a valid event again after a documented 503, as a sender would)
   * and counts what came back against what the case allows.
   */
  async function send(request: HostileRequest, connection: RawConnection, original?: RawAnswer): Promise<RawAnswer> {
    // After a PubAck that did not come in time the event may be stored: its retry is then a duplicate.
    let lostPubAck = false;
    for (let attempt = 0; ; attempt++) {
      const answer =
        request.transport === "keepalive"
          ? await connection.request(request.bytes!, { head: request.head === true, timeoutMs: 10_000 })
          : await rawExchange(port, request.steps!, REQUEST_TIMEOUT_MS + 3 * SLACK_MS);
      const judged = judge(answer, request.head === true);
      const storing = request.eventKey !== undefined || request.repeats !== undefined;
      if (storing && judged.retryable && attempt < 50) {
        tally.count(`${request.kind} (503, sent again)`, request.size, judged, true);
        lostPubAck ||= judged.label === "503 buffer_unavailable";
        await sleep(Math.min(200, Number(answer.headers["retry-after"]) * 1000));
        continue;
      }
      let ok =
        request.expect.includes(judged.label) ||
        (judged.pressure && !storing) ||
        (lostPubAck && request.eventKey !== undefined && judged.label === "200 duplicate");
      let detail = "";
      if (ok && request.eventKey !== undefined) {
        ok = judged.json.event_key === request.eventKey;
        if (!ok) detail = `key ${judged.json.event_key} is not ${request.eventKey}`;
        else acknowledged.set(request.eventKey, judged.json.seq as number);
      }
      if (ok && request.repeats !== undefined && judged.label === "200 duplicate" && original?.status === 202) {
        const first = JSON.parse(original.body) as { event_key: string; seq: number };
        ok = judged.json.event_key === first.event_key && judged.json.seq === first.seq;
        if (!ok)
          detail = `answered ${judged.json.event_key}#${judged.json.seq}, the original was ${first.event_key}#${first.seq}`;
      }
      tally.count(
        request.kind,
        request.size,
        judged,
        ok,
        detail || `(request ${request.bytes?.subarray(0, 120).toString("latin1") ?? ""})`,
      );
      return answer;
    }
  }

  /** Requests [from, to) on CONCURRENCY keep-alive connections (fresh ones for oneshots); a replay waits for its original. */
  async function run(
    requests: HostileRequest[],
    answers: Array<PromiseWithResolvers<RawAnswer>>,
    from: number,
    to: number,
  ) {
    let next = from;
    const worker = async () => {
      const connection = new RawConnection(port);
      while (next < to) {
        const i = next++;
        const request = requests[i]!;
        const original = request.repeats === undefined ? undefined : await answers[request.repeats]!.promise;
        answers[i]!.resolve(await send(request, connection, original));
      }
      connection.close();
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  }

  /**
   * A sender doing everything right (undici's fetch, a fresh signed event each time) until `stop`:
   * every event must be accepted. Returns when each 202 came.
   */
  async function realSender(kind: string, stop: () => boolean, counter: { n: number }): Promise<number[]> {
    const accepted: number[] = [];
    while (!stop()) {
      const id = `real-${kind.replace(/\W+/g, "-")}-${counter.n++}`;
      const body = JSON.stringify({
        event: "link.opened",
        event_id: id,
        timestamp: new Date().toISOString(),
        data: {},
      });
      validKeys.add(`demo:${id}`);
      const answer = await postToGateway(
        `${url}/v1/sources/demo/events`,
        { headers: signWebhook({ secret: DEMO_SECRET, body }), body },
        { maxWaitMs: 200 },
      );
      const raw: RawAnswer = { status: answer.status, headers: {}, body: JSON.stringify(answer.json), ms: answer.ms };
      const judged = judge(raw);
      const ok = answer.status === 202 && answer.json.event_key === `demo:${id}`;
      tally.count(`real sender during ${kind}`, body.length, judged, ok);
      // postToGateway sent it again after each pressure refusal: those were refusals too.
      tally.pressureRefusals += answer.pressureRefusals;
      if (answer.pressureRefusals > 0) tally.refused("overloaded", answer.pressureRefusals);
      if (ok) {
        acknowledged.set(`demo:${id}`, answer.json.seq as number);
        accepted.push(Date.now());
      }
      await sleep(25);
    }
    return accepted;
  }

  it(`hostile - ${REQUESTS} generated requests: every answer is the case's, with a catalogued code; valid events are 202, replays 200 duplicate`, async () => {
    const { requests, validKeys: keys } = new HostileCases(new Prng(start), port).generate(REQUESTS);
    for (const key of keys) validKeys.add(key);
    const answers = requests.map(() => Promise.withResolvers<RawAnswer>());
    const started = Date.now();
    await run(requests, answers, 0, WARM_UP);
    baseline = await gatewayMemory();
    await run(requests, answers, WARM_UP, requests.length);
    notes.push(
      `barrage: ${requests.length} requests in ${Date.now() - started} ms, ${keys.size} valid events among them, ${tally.pressureRefusals} pressure refusals`,
    );
    expect(tally.unexpected).toEqual([]);
    expect(tally.problems).toBe(0);
    expect(tally.fiveHundreds).toBe(0);
  }, 90_000);

  it("hostile - slow senders are cut within requestTimeoutMs while real senders keep getting 202s", async () => {
    const body = Buffer.from(JSON.stringify({ event: "link.clicked", event_id: "slow-never-stored", data: {} }));
    const path = "/v1/sources/demo/events";
    const signed = Object.entries(signWebhook({ secret: DEMO_SECRET, body })) as Array<[string, string]>;
    const head = (extra: Array<[string, string]>) => requestBytes({ path, headers: [...signed, ...extra], port });
    const trickle = (unit: (i: number) => Buffer, everyMs: number): Step[] =>
      Array.from({ length: 100 }, (_, i) => [{ pauseMs: everyMs }, unit(i)]).flat();
    const kinds: Array<[string, Step[], number]> = [
      // A body one byte at a time: the whole request must be in within requestTimeoutMs.
      [
        "slow body (content-length)",
        [
          head([["content-length", String(body.length)]]),
          ...trickle((i) => body.subarray(i % body.length, (i % body.length) + 1), 100),
        ],
        REQUEST_TIMEOUT_MS,
      ],
      [
        "slow body (chunked)",
        [head([["transfer-encoding", "chunked"]]), ...trickle(() => Buffer.from("1\r\n \r\n"), 150)],
        REQUEST_TIMEOUT_MS,
      ],
      [
        "chunk shorter than its size",
        [head([["transfer-encoding", "chunked"]]), Buffer.from("400\r\n{}")],
        REQUEST_TIMEOUT_MS,
      ],
      // Headers one line at a time: cut at headersTimeoutMs.
      [
        "slow headers",
        [Buffer.from(`POST ${path} HTTP/1.1\r\n`), ...trickle((i) => Buffer.from(`x-slow-${i}: 1\r\n`), 150)],
        HEADERS_TIMEOUT_MS,
      ],
    ];
    let stop = false;
    const counter = { n: 0 };
    const senders = Array.from({ length: REAL_SENDERS }, () => realSender("slow senders", () => stop, counter));
    const windowStart = Date.now();
    const slow = await Promise.all(
      Array.from({ length: SLOW_SENDERS }, async (_, i) => {
        const [kind, steps, timeout] = kinds[i % kinds.length]!;
        const answer = await rawExchange(port, steps, REQUEST_TIMEOUT_MS + 4 * SLACK_MS);
        const judged = judge(answer);
        const inTime = answer.ms >= timeout - 200 && answer.ms <= REQUEST_TIMEOUT_MS + SLACK_MS;
        // Cut by the timeout (or, on a starved machine, shed by the pressure guard before its body).
        const ok = (["408 request_timeout", "closed"].includes(judged.label) && inTime) || judged.pressure;
        tally.count(
          kind,
          steps.reduce((n, s) => n + (Buffer.isBuffer(s) ? s.length : 0), 0),
          judged,
          ok,
          `after ${answer.ms} ms`,
        );
        return answer.ms;
      }),
    );
    const windowEnd = Date.now();
    stop = true;
    const accepted = (await Promise.all(senders)).flat();
    notes.push(
      `slow senders: ${SLOW_SENDERS} cut after ${Math.min(...slow)}-${Math.max(...slow)} ms (request timeout ${REQUEST_TIMEOUT_MS} ms, headers ${HEADERS_TIMEOUT_MS} ms); real senders got ${accepted.filter((t) => t >= windowStart && t <= windowEnd).length} × 202 meanwhile`,
    );
    expect(tally.unexpected).toEqual([]);
    expect(accepted.filter((t) => t >= windowStart && t <= windowEnd).length).toBeGreaterThanOrEqual(10);
  }, 60_000);

  it(`hostile - ${FLOOD_SOCKETS} idle sockets at once: each is closed within the timeouts while real senders keep getting 202s`, async () => {
    const promised = JSON.stringify({ event: "link.clicked", event_id: "flood-never-stored", data: {} });
    const signed = Object.entries(signWebhook({ secret: DEMO_SECRET, body: promised })) as Array<[string, string]>;
    let stop = false;
    const counter = { n: 0 };
    const senders = Array.from({ length: REAL_SENDERS }, () => realSender("connection flood", () => stop, counter));
    await sleep(100);
    const windowStart = Date.now();
    const kinds: Array<[string, Step[]]> = [
      ["flood: silent socket", []],
      ["flood: half a request line", [Buffer.from("POST /v1/sources/demo/ev")]],
      // Signed headers for a body that never comes: admitted, then cut at requestTimeoutMs.
      [
        "flood: headers, no body",
        [requestBytes({ path: "/v1/sources/demo/events", headers: [...signed, ["content-length", "1000"]], port })],
      ],
    ];
    const flood = await Promise.all(
      Array.from({ length: FLOOD_SOCKETS }, async (_, i) => {
        const [kind, steps] = kinds[i % kinds.length]!;
        const answer = await rawExchange(port, steps, REQUEST_TIMEOUT_MS + 4 * SLACK_MS);
        const judged = judge(answer);
        const ok =
          (["408 request_timeout", "closed"].includes(judged.label) && answer.ms <= REQUEST_TIMEOUT_MS + SLACK_MS) ||
          judged.pressure;
        tally.count(
          kind,
          steps.reduce((n, s) => n + (Buffer.isBuffer(s) ? s.length : 0), 0),
          judged,
          ok,
          `after ${answer.ms} ms`,
        );
        return answer.ms;
      }),
    );
    const windowEnd = Date.now();
    stop = true;
    const accepted = (await Promise.all(senders)).flat();
    notes.push(
      `connection flood: ${FLOOD_SOCKETS} sockets, all closed after ${Math.min(...flood)}-${Math.max(...flood)} ms; real senders got ${accepted.filter((t) => t >= windowStart && t <= windowEnd).length} × 202 meanwhile`,
    );
    expect(tally.unexpected).toEqual([]);
    expect(accepted.filter((t) => t >= windowStart && t <= windowEnd).length).toBeGreaterThanOrEqual(5);
  }, 60_000);

  it("hostile - afterwards: the gateway runs, the stream holds every valid event exactly once and nothing else, memory is back", async () => {
    // Alive: the process never exited, and answers its probe.
    expect(gateway!.process.exitCode).toBeNull();
    expect(gateway!.process.signalCode).toBeNull();
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(gateway!.output()).not.toMatch(/"level":(50|60)/); // no error or fatal log line
    expect(tally.requests).toBeGreaterThanOrEqual(REQUESTS);

    // Stored: the stream's messages are the valid events, each under its key once.
    const jsm = await jetstreamManager(observer!);
    const { state } = await jsm.streams.info("EVENTS_US");
    const stored = new Map<string, number>();
    const consumer = await jetstream(observer!).consumers.get("EVENTS_US", {
      deliver_policy: DeliverPolicy.All,
      headers_only: true,
    });
    while ([...stored.values()].reduce((a, b) => a + b, 0) < state.messages) {
      const batch = await consumer.fetch({ max_messages: 1000, expires: 2000 });
      let got = 0;
      for await (const msg of batch) {
        got++;
        const key = msg.headers?.get("Nats-Msg-Id") ?? "";
        stored.set(key, (stored.get(key) ?? 0) + 1);
      }
      if (got === 0) break;
    }
    notes.push(
      `stream: ${state.messages} messages; ${validKeys.size} distinct valid events sent, ${acknowledged.size} acknowledged`,
    );
    expect(state.messages).toBe(validKeys.size);
    expect([...stored].filter(([, n]) => n !== 1)).toEqual([]);
    expect([...stored.keys()].filter((k) => !validKeys.has(k))).toEqual([]);
    expect([...validKeys].filter((k) => !stored.has(k))).toEqual([]);
    expect([...acknowledged.keys()].sort()).toEqual([...validKeys].sort());

    // The gateway's own counters agree with what the senders saw: every acceptance and duplicate,
    // and every refusal (the gateway may have counted a few more: answers a closed or reset
    // connection never delivered).
    const stats = (await (await fetch(`${opsUrl}/v1/stats`)).json()) as {
      accepted: number;
      duplicates: number;
      refused: Record<string, number>;
    };
    expect(stats.accepted).toBe(validKeys.size);
    expect(stats.duplicates).toBe(tally.labels.get("200 duplicate") ?? 0);
    const codes = [...new Set([...Object.keys(stats.refused), ...tally.refusals.keys()])].sort();
    const unseen = codes.map((c) => [c, (stats.refused[c] ?? 0) - (tally.refusals.get(c) ?? 0)] as const);
    notes.push(
      `gateway's counters: ${stats.accepted} accepted, ${stats.duplicates} duplicates, ${Object.values(stats.refused).reduce((a, b) => a + b, 0)} refusals; ${tally.withoutCode} exchanges ended without a code (closed, reset, HEAD)`,
    );
    notes.push(`refusals the gateway counted beyond those seen: ${JSON.stringify(unseen.filter(([, d]) => d !== 0))}`);
    expect(unseen.filter(([, d]) => d < 0)).toEqual([]);
    expect(unseen.reduce((sum, [, d]) => sum + d, 0)).toBeLessThanOrEqual(tally.withoutCode);

    // Memory: idle connections are gone by now; a full GC brings the heap back near the baseline.
    await sleep(500);
    const after = await gatewayMemory();
    const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
    const b = baseline!;
    notes.push(
      `memory after full GCs: heapUsed ${mib(b.heapUsed)} → ${mib(after.heapUsed)}, arrayBuffers ${mib(b.arrayBuffers)} → ${mib(after.arrayBuffers)}, external ${mib(b.external)} → ${mib(after.external)}, RSS ${mib(b.rss)} → ${mib(after.rss)} (peak ${mib(after.hwm)})`,
    );
    expect(after.heapUsed - b.heapUsed).toBeLessThan(MAX_HEAP_GROWTH);
    expect(after.arrayBuffers - b.arrayBuffers).toBeLessThan(MAX_ARRAY_BUFFERS_GROWTH);
    expect(after.rss - b.rss).toBeLessThan(MAX_RSS_GROWTH);
  }, 30_000);
});
