// @ts-check
/**
 * Tributary load test for k6: one constant-arrival-rate scenario for the tier named by TIER,
 * read from ../tiers.json. Run against your own deployment:
 *
 *   k6 run -e BASE_URL=https://ingest.example.com -e TIER=100-1k -e SECRET=… k6/tributary.js
 *
 * Env: BASE_URL (required), TIER (default under-10), SECRET or SECRET_FILE (the source's signing
 * secret), SOURCE (default from tiers.json), DURATION (seconds, overrides the tier's), SEED.
 */
import http from "k6/http";
import { check, fail } from "k6";
import exec from "k6/execution";
import { Counter } from "k6/metrics";
import { makeEvent, pickType, prng } from "./lib/payload.js";
import { batchRequest, singleEventRequest } from "./lib/request.js";

/**
 * @typedef {{ errorRate: number, ackP95Ms: number, ackP99Ms: number, e2eP99Ms: number }} Thresholds
 * @typedef {{ name: string, range: string, rate: number, durationSeconds: number, resendShare: number,
 *   batch: { share: number, size: number }, thresholds: Thresholds, faultThresholds: Thresholds }} Tier
 * @typedef {{ source: string, eventMix: import("./lib/payload.js").MixEntry[], tiers: Tier[] }} TiersFile
 */

/** @type {TiersFile} */
const tiers = JSON.parse(open("../tiers.json"));
const tierName = __ENV.TIER || "under-10";
const found = tiers.tiers.find((t) => t.name === tierName);
if (!found)
  throw new Error(`TIER=${tierName} is not in tiers.json: use one of ${tiers.tiers.map((t) => t.name).join(", ")}`);
/** @type {Tier} */
const tier = found;
const baseUrl = (__ENV.BASE_URL || "").replace(/\/+$/, "");
const source = __ENV.SOURCE || tiers.source;
const secret = (__ENV.SECRET || (__ENV.SECRET_FILE ? open(__ENV.SECRET_FILE) : "")).trim();
const durationSeconds = Number(__ENV.DURATION || tier.durationSeconds);

/**
 * Requests per second that carry `rate` events per second: singles plus batches of batch.size.
 * @param {Tier} t
 */
export function requestRate(t) {
  const batchEvents = t.rate * t.batch.share;
  return t.rate - batchEvents + batchEvents / Math.max(1, t.batch.size);
}

const reqRate = requestRate(tier);
// A batch request is drawn with this probability, so events/s = tier.rate on average.
const batchProbability = tier.batch.share > 0 ? (tier.rate * tier.batch.share) / tier.batch.size / reqRate : 0;
// k6 needs an integer rate: scale the time unit for fractional request rates.
const perMinute = Math.max(1, Math.round(reqRate * 60));

export const options = {
  scenarios: {
    [tier.name]: {
      executor: "constant-arrival-rate",
      rate: perMinute,
      timeUnit: "1m",
      duration: `${durationSeconds}s`,
      preAllocatedVUs: Math.max(2, Math.ceil(reqRate * 0.05)),
      maxVUs: Math.max(10, Math.ceil(reqRate * 0.5)),
    },
  },
  thresholds: {
    http_req_failed: [`rate<${tier.thresholds.errorRate}`],
    http_req_duration: [`p(95)<${tier.thresholds.ackP95Ms}`, `p(99)<${tier.thresholds.ackP99Ms}`],
    checks: ["rate>0.999"],
  },
};

const accepted = new Counter("tributary_events_accepted");
const duplicates = new Counter("tributary_events_duplicate");

export function setup() {
  if (!baseUrl) fail("BASE_URL is not set: k6 run -e BASE_URL=https://your-gateway …");
  if (!secret) fail("neither SECRET nor SECRET_FILE is set: the source's signing secret is needed");
  const res = http.get(`${baseUrl}/readyz`);
  if (res.status !== 200)
    fail(`the target is not ready: GET ${baseUrl}/readyz answered ${res.status} ${String(res.body).slice(0, 200)}`);
  return { run: `k6-${Date.now().toString(36)}` };
}

const random = prng(Number(__ENV.SEED || 1) * 7919 + __VU);
/** @type {{ body: string, id: string } | null} */
let lastSingle = null;

/**
 * The next request of this VU: a resend of its previous event, a batch, or one event.
 * @param {{ run: string }} data
 * @param {number} iteration unique in the test
 * @param {Date} now
 */
export function nextRequest(data, iteration, now) {
  const timestampSeconds = Math.floor(now.getTime() / 1000);
  if (lastSingle && random() < tier.resendShare) {
    return singleEventRequest({
      baseUrl,
      source,
      secret,
      body: lastSingle.body,
      deliveryId: lastSingle.id,
      timestampSeconds,
    });
  }
  const eventOf = (/** @type {number} */ seq) => {
    const mix = pickType(tiers.eventMix, random());
    const id = `${data.run}-${seq}`;
    return { id, body: makeEvent({ type: mix.type, id, seq, run: data.run, bytes: mix.bytes, now }) };
  };
  if (random() < batchProbability) {
    const bodies = [];
    for (let i = 0; i < tier.batch.size; i++) bodies.push(eventOf(iteration * 1000 + i).body);
    return batchRequest({ baseUrl, source, secret, bodies, timestampSeconds });
  }
  const event = eventOf(iteration * 1000);
  lastSingle = event;
  return singleEventRequest({ baseUrl, source, secret, body: event.body, deliveryId: event.id, timestampSeconds });
}

/** @param {{ run: string }} data */
export default function (data) {
  const req = nextRequest(data, exec.scenario.iterationInTest, new Date());
  const res = http.post(req.url, req.body, {
    headers: req.headers,
    tags: { name: req.url.endsWith("/batch") ? "batch" : "events" },
  });
  check(res, { "202 accepted or 200 duplicate/complete": (r) => r.status === 202 || r.status === 200 });
  if (res.status === 202) accepted.add(req.url.endsWith("/batch") ? tier.batch.size : 1);
  else if (res.status === 200) duplicates.add(1);
}

/** @param {unknown} data */
export function handleSummary(data) {
  return { "summary.json": JSON.stringify(data, null, 2) };
}
