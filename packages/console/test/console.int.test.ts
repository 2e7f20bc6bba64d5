import { execFile } from "node:child_process";
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import { headers as natsHeaders } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import axe from "axe-core";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePorts } from "@tributary/processes";
// The local system by path, not as a declared dependency: the local system runs the aggregator,
// which serves this package, so declaring it would make the workspace's build graph a cycle. Its
// build comes first all the same (turbo.json: this package's test depends on its build).
import { DEFAULT_TOPOLOGY, signWebhookHmacSha256, startTopology, type Topology } from "../../local/dist/index.js";

/** Debian's Chromium (scripts/ensure-chromium.sh installs it); playwright-core downloads no browser. */
const CHROMIUM = process.env.TRIBUTARY_CHROMIUM ?? "/usr/bin/chromium";
const SHOTS = join(import.meta.dirname, "..", "test-results");

declare global {
  interface Window {
    axe: typeof axe;
  }
}

/** Polls until `check` holds, failing after `ms`. */
async function within(ms: number, check: () => Promise<boolean>): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** axe-core in the page: every serious or critical violation, as "rule: target" lines. */
async function seriousViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(axe.source);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact}): ${n.target.join(" ")} - ${v.help}`));
}

/** The page passes axe (no serious or critical violation) and is photographed for the record. */
async function checkPage(page: Page, name: string): Promise<void> {
  expect(await seriousViolations(page), `axe on ${name}`).toEqual([]);
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

interface Received {
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

describe("the web console in a real browser, over the local multi-region system", () => {
  let topology: Topology;
  let stateDir: string;
  let browser: Browser;
  let readToken: string;
  let writeToken: string;
  let endpoint: Server;
  let endpointUrl: string;
  const received: Received[] = [];
  const sent = new Map<string, string>(); // event key -> region
  let flakyDown = true;
  let rejecting = true;
  let shopSecret: string;
  const pageErrors: string[] = [];

  const api = async (method: string, path: string, payload?: unknown, token = topology.apiToken) => {
    const res = await fetch(`${topology.aggregatorUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(payload === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
    });
    return { status: res.status, body: (res.status === 204 ? undefined : await res.json()) as any };
  };

  /** A browser tab of its own (its own sessionStorage), failing the test on any page error or CSP refusal. */
  const newPage = async (): Promise<{ context: BrowserContext; page: Page }> => {
    pageErrors.length = 0;
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.on("pageerror", (err) => pageErrors.push(err.message));
    page.on("console", (msg) => {
      if (msg.type() === "error" && !/Failed to load resource/.test(msg.text())) pageErrors.push(msg.text());
    });
    return { context, page };
  };

  const signIn = async (page: Page, token: string) => {
    await page.goto(`${topology.aggregatorUrl}/console/`);
    await page.getByLabel("API token").fill(token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
  };

  /** A chart's data table as label -> value (the table every chart carries for screen readers). */
  const chartData = async (page: Page, id: string): Promise<Record<string, number>> => {
    const rows = page.getByTestId(`chart-${id}`).locator("tbody tr");
    const out: Record<string, number> = {};
    for (const row of await rows.all())
      out[(await row.locator("th").textContent())!] = Number(await row.getByTestId("value").textContent());
    return out;
  };

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    stateDir = mkdtempSync(join(tmpdir(), "tributary-console-"));
    // A read-only and a write token beside the local admin token (file references, as the local system's own).
    const tokenFile = (name: string, token: string) => {
      const file = join(stateDir, `${name}-token`);
      writeFileSync(file, token + "\n", { mode: 0o600 });
      return file;
    };
    readToken = randomBytes(24).toString("hex");
    writeToken = randomBytes(24).toString("hex");
    const [us, eu, aggregatorPort] = await freePorts(3);
    topology = await startTopology({
      ...DEFAULT_TOPOLOGY,
      stateDir,
      hubPort: -1,
      hubLeafnodePort: -1,
      regionPorts: -1,
      gatewayPorts: [us!, eu!],
      aggregatorPort: aggregatorPort!,
      logLevel: "warn",
      aggregatorOverrides: {
        api: {
          anonymousLoopback: true,
          tokens: [
            // The local admin token, where the local system keeps it (secrets/api-token in its state).
            { id: "local-admin", file: join(stateDir, "secrets", "api-token"), sources: ["*"], scope: "admin" },
            { id: "viewer", file: tokenFile("read", readToken), sources: ["*"], scope: "read" },
            { id: "operator", file: tokenFile("write", writeToken), sources: ["*"], scope: "write" },
          ],
        },
      },
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
    endpoint = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        received.push({ url: req.url ?? "", headers: req.headers, body });
        // `/flaky` fails while `flakyDown` holds: a subscription whose endpoint is failing; `/reject`
        // refuses (400, straight to the DLQ) while `rejecting` holds.
        const refused = (req.url === "/flaky" && flakyDown) || (req.url === "/reject" && rejecting);
        res.writeHead(refused ? (req.url === "/reject" ? 400 : 503) : 204).end();
      });
    });
    await new Promise<void>((r) => endpoint.listen(0, "127.0.0.1", r));
    endpointUrl = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/hooks`;
  });

  afterAll(async () => {
    await browser?.close();
    endpoint?.close();
    await topology?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it("signed events sent through both regions appear on the Events page, page by page, and open in detail", async () => {
    // A source made through the API; its secret signs events sent to both regions' gateways.
    const created = await api("POST", "/v1/sources", { id: "shop", scheme: { type: "webhook-hmac-sha256" } });
    expect(created.status).toBe(201);
    const secret = created.body.secrets[0].value as string;
    shopSecret = secret;
    const regions = [...topology.regions.entries()];
    const send = async (region: string, gatewayUrl: string) => {
      const eventId = randomUUID();
      const body = JSON.stringify({
        event_id: eventId,
        type: "link.clicked",
        occurred_at: new Date().toISOString(),
        data: { link_id: `l-${region}` },
      });
      const res = await fetch(`${gatewayUrl}/v1/sources/shop/events`, {
        method: "POST",
        headers: signWebhookHmacSha256({ secret, body }),
        body,
      });
      if (res.status === 202) sent.set(`shop:${eventId}`, region);
      return res.status;
    };
    // The gateways apply the new source within seconds; from then on every event is taken.
    await within(15_000, async () =>
      (await Promise.all(regions.map(([r, h]) => send(r, h.gatewayUrl)))).every((s) => s === 202),
    );
    for (let i = 0; i < 2; i++) for (const [r, h] of regions) expect(await send(r, h.gatewayUrl)).toBe(202);
    await within(
      30_000,
      async () => (await api("GET", "/v1/events?source=shop&limit=100")).body.data?.length >= sent.size,
    );

    const { context, page } = await newPage();
    await page.goto(`${topology.aggregatorUrl}/console/`);
    await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
    await checkPage(page, "sign-in");
    // By keyboard alone: the skip link comes first and leads to the content; the token field, Enter.
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
    await page.keyboard.press("Enter");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("main");
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("token");
    await page.keyboard.type(topology.apiToken);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
    await expect.poll(() => page.getByTestId("scope").textContent()).toBe("admin");
    expect(await page.getByTestId("token-id").textContent()).toBe("local-admin");

    // The overview (the landing page): its charts' numbers are the API's for the same hour.
    const overview = page.getByTestId("overview");
    await overview.waitFor();
    const from = (await overview.getAttribute("data-from"))!;
    const to = (await overview.getAttribute("data-to"))!;
    const window = `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
    const apiCounts = async (view: string) => {
      const answer = (await api("GET", `/v1/analytics/${view}?${window}`)).body;
      return { answer, counts: Object.fromEntries(answer.data.map((r: any) => [r.key ?? "unknown", r.events])) };
    };
    const bySource = await apiCounts("sources");
    expect(bySource.counts).toEqual({ shop: sent.size });
    expect(await chartData(page, "by-source")).toEqual(bySource.counts);
    expect(await chartData(page, "by-type")).toEqual((await apiCounts("types")).counts);
    // Links, channels and platforms as the API counts them (each region's events name its own link;
    // these senders name no channel or platform); no conversions, so no revenue.
    const byLink = await apiCounts("links");
    expect(byLink.counts).toEqual({ "l-us": sent.size / 2, "l-eu": sent.size / 2 });
    expect(await chartData(page, "by-link")).toEqual(byLink.counts);
    expect(await chartData(page, "by-channel")).toEqual((await apiCounts("channels")).counts);
    expect(await chartData(page, "by-platform")).toEqual((await apiCounts("platforms")).counts);
    expect(await page.getByTestId("revenue-none").count()).toBe(1);
    const minutes = await apiCounts("minutes");
    const shownMinutes = await chartData(page, "per-minute");
    expect(Object.keys(shownMinutes)).toHaveLength(60);
    for (const [minute, events] of Object.entries(minutes.counts)) expect(shownMinutes[minute]).toBe(events);
    expect(Object.values(shownMinutes).reduce((a, b) => a + b, 0)).toBe(sent.size);
    expect(await page.getByTestId("chart-per-minute").getByTestId("summary").textContent()).toContain(
      `${sent.size} events in the last hour`,
    );
    expect(await page.getByTestId("freshness").getAttribute("data-newest")).toBe(
      bySource.answer.freshness.newest_loaded_at,
    );
    // The data table opens for sighted users too.
    await page.getByTestId("chart-by-source").getByRole("button", { name: "Show the data" }).click();
    await checkPage(page, "overview");

    await page.getByRole("link", { name: "Events", exact: true }).click();
    await page.getByRole("heading", { level: 1, name: "Events" }).waitFor();
    for (const key of sent.keys()) await page.getByRole("link", { name: key }).waitFor();
    const shownRegions = new Set(await page.getByTestId("region").allTextContents());
    expect(shownRegions).toEqual(new Set(["us", "eu"]));
    await checkPage(page, "events");

    // Cursor pages of four: the first page, "Next page", the rest; every event once.
    const keysShown = async () => (await page.locator("main tbody tr td:first-child a").allTextContents()).sort();
    await page.goto(`${topology.aggregatorUrl}/console/#/events?source=shop&limit=4`);
    await page.getByRole("link", { name: "Next page" }).waitFor();
    await expect.poll(async () => (await keysShown()).length).toBe(4);
    const first = await keysShown();
    await page.getByRole("link", { name: "Next page" }).click();
    await page.getByRole("link", { name: "First page" }).waitFor();
    await expect.poll(async () => (await keysShown()).some((k) => first.includes(k))).toBe(false);
    expect([...first, ...(await keysShown())].sort()).toEqual([...sent.keys()].sort());

    // The live tail: the first page read again every few seconds; an event sent meanwhile appears, marked new.
    await page.goto(`${topology.aggregatorUrl}/console/#/events?source=shop`);
    await page.getByRole("button", { name: "Live tail" }).click();
    await page.getByRole("button", { name: "Stop live tail" }).waitFor();
    const before = new Set(sent.keys());
    expect(await send("us", topology.regions.get("us")!.gatewayUrl)).toBe(202);
    const tailed = [...sent.keys()].find((k) => !before.has(k))!;
    await page.locator("tr.arrived").getByRole("link", { name: tailed }).waitFor({ timeout: 30_000 });
    await checkPage(page, "events-live-tail");
    await page.getByRole("button", { name: "Stop live tail" }).click();
    await page.getByRole("button", { name: "Live tail" }).waitFor();

    // The filter form writes the page's URL (shareable): a source without events shows none.
    await page.goto(`${topology.aggregatorUrl}/console/#/events`);
    await page.getByLabel("Source", { exact: true }).fill("nosuch");
    await page.getByLabel("Suspicious").selectOption("false");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.getByText("No events match.").waitFor();
    expect(page.url()).toContain("source=nosuch");
    expect(page.url()).toContain("is_suspicious=false");

    // Each region's event opens in detail: by a click, and by its URL (shareable, reloadable).
    for (const [key, region] of sent) {
      await page.goto(`${topology.aggregatorUrl}/console/#/events?source=shop`);
      await page.getByRole("link", { name: key }).click();
      await page.getByRole("heading", { level: 1, name: `Event ${key}` }).waitFor();
      expect(await page.getByTestId("event-region").textContent()).toBe(region);
      expect(await page.getByTestId("payload").textContent()).toContain(key.slice("shop:".length));
    }
    const [key, region] = [...sent].find(([, r]) => r === "eu")!;
    await page.goto(`${topology.aggregatorUrl}/console/#/events/${encodeURIComponent(key)}`);
    await page.reload();
    await page.getByRole("heading", { level: 1, name: `Event ${key}` }).waitFor();
    expect(await page.getByTestId("event-region").textContent()).toBe(region);
    await checkPage(page, "event-detail");
    await context.close();
    expect(pageErrors).toEqual([]);
  });

  it("a subscription created on the page shows its secret once, test-sends to the endpoint, pauses and resumes; an event resends to it; the list and its page show each one's health", async () => {
    const { context, page } = await newPage();
    await signIn(page, topology.apiToken);
    await page.getByRole("link", { name: "Subscriptions" }).click();
    await page.getByRole("heading", { level: 1, name: "Subscriptions" }).waitFor();
    await page.getByLabel("Id").fill("hooks");
    await page.getByLabel("Endpoint URL").fill(endpointUrl);
    await page.getByLabel("Sources").fill("shop");
    await page.getByRole("button", { name: "Create subscription" }).click();
    const secret = page.getByTestId("secret-value");
    await secret.waitFor();
    expect(await secret.textContent()).toMatch(/^whsec_/);
    const row = page.getByTestId("subscription-hooks");
    await row.waitFor();
    expect(await row.getByTestId("state").textContent()).toBe("active");
    await checkPage(page, "subscriptions");

    // The test send reaches the loopback endpoint; the page shows what it answered.
    await row.getByRole("button", { name: "Send test" }).click();
    await page.getByTestId("test-result").waitFor();
    expect(await page.getByTestId("test-result").textContent()).toContain("HTTP 204");
    await within(10_000, async () => received.length >= 1);
    expect(received[0]!.headers["webhook-id"]).toBeTruthy();

    await row.getByRole("button", { name: "Pause" }).click();
    await expect.poll(() => row.getByTestId("state").textContent()).toMatch(/^paused/);
    expect((await api("GET", "/v1/subscriptions/hooks")).body.paused).toBe(true);
    await row.getByRole("button", { name: "Resume" }).click();
    await expect.poll(() => row.getByTestId("state").textContent()).toBe("active");
    expect((await api("GET", "/v1/subscriptions/hooks")).body.paused).toBe(false);

    // Shown once: after a reload the secret is gone (the API never shows it again).
    await page.reload();
    await row.waitFor();
    expect(await page.getByTestId("secret-value").count()).toBe(0);

    // "Resend to subscription…" from an event's page: the endpoint gets it with its key as webhook-id.
    const [key] = [...sent.keys()];
    await page.goto(`${topology.aggregatorUrl}/console/#/events/${encodeURIComponent(key!)}`);
    await page.getByLabel("Subscription", { exact: true }).selectOption("hooks");
    await page.getByRole("button", { name: "Resend to subscription…" }).click();
    await page.getByText(/Resent to hooks/).waitFor();
    await within(20_000, async () => received.some((r) => r.headers["webhook-id"] === key));

    // A failing subscription: the event's page shows its failed attempts (from the delivery log);
    // once the endpoint answers again, a resend from that page reaches it with the same webhook-id,
    // and the timeline shows the delivered attempt.
    const flaky = await api("POST", "/v1/subscriptions", {
      id: "flaky",
      url: endpointUrl.replace(/\/hooks$/, "/flaky"),
      sources: ["shop"],
      start: "all",
      retry: { maxAttempts: 2, initialDelayMs: 20, maxDelayMs: 50 },
    });
    expect(flaky.status).toBe(201);
    const attemptsOf = async (outcome?: string) =>
      ((await api("GET", `/v1/events/${encodeURIComponent(key!)}/deliveries`)).body.data as any[]).filter(
        (a) => a.subscription === "flaky" && (outcome === undefined || a.outcome === outcome),
      ).length;
    await within(30_000, async () => (await attemptsOf()) >= 2);
    await page.reload();
    const flakyAttempts = page.getByTestId("deliveries-flaky");
    await flakyAttempts.waitFor();
    expect(await flakyAttempts.locator("tbody tr").count()).toBeGreaterThanOrEqual(2);
    expect(await flakyAttempts.textContent()).toContain("503");
    await checkPage(page, "event-detail-deliveries");
    flakyDown = false;
    const beforeResend = received.length;
    await page.getByLabel("Subscription", { exact: true }).selectOption("flaky");
    await page.getByRole("button", { name: "Resend to subscription…" }).click();
    await page.getByText(/Resent to flaky/).waitFor();
    await within(20_000, async () =>
      received.slice(beforeResend).some((r) => r.url === "/flaky" && r.headers["webhook-id"] === key),
    );
    await within(30_000, async () => (await attemptsOf("delivered")) >= 1);
    await page.getByRole("button", { name: "Refresh deliveries" }).click();
    await expect.poll(() => flakyAttempts.textContent(), { timeout: 10_000 }).toContain("delivered");

    // Delete asks first; confirmed, the subscription is gone from the page and the API.
    await page.getByRole("link", { name: "Subscriptions" }).click();
    await page.getByLabel("Id").fill("doomed");
    await page.getByLabel("Endpoint URL").fill(endpointUrl);
    await page.getByRole("button", { name: "Create subscription" }).click();
    const doomed = page.getByTestId("subscription-doomed");
    await doomed.getByRole("button", { name: "Delete…" }).click();
    await doomed.getByRole("button", { name: "Keep it" }).click();
    await doomed.getByRole("button", { name: "Delete…" }).click();
    await doomed.getByRole("button", { name: "Delete doomed for good" }).click();
    await page.getByText("doomed deleted.").waitFor();
    await expect.poll(() => doomed.count()).toBe(0);
    expect((await api("GET", "/v1/subscriptions/doomed")).status).toBe(404);

    // Health, last hour: the failing subscription (two or more refused attempts, one delivered)
    // shows a low success rate or an open breaker, the healthy one 100%; the page says what the API says.
    const health = async (id: string) => (await api("GET", `/v1/subscriptions/${id}`)).body.health;
    await within(30_000, async () => (await health("hooks")).attempts > 0);
    const flakyHealth = await health("flaky");
    expect(flakyHealth.attempts).toBeGreaterThanOrEqual(3);
    expect(flakyHealth.successRate).toBeLessThan(0.5);
    expect(flakyHealth.backlog).toMatchObject({ pending: expect.any(Number) });
    await page.reload();
    const hooksRow = page.getByTestId("subscription-hooks");
    await hooksRow.waitFor();
    expect(await hooksRow.getByTestId("success-rate").textContent()).toBe("100%");
    expect(["closed", "unknown"]).toContain(await hooksRow.getByTestId("breaker").textContent());
    const flakyRow = page.getByTestId("subscription-flaky");
    const flakyRate = Number((await flakyRow.getByTestId("success-rate").textContent())!.replace("%", ""));
    const flakyBreaker = await flakyRow.getByTestId("breaker").textContent();
    expect(flakyRate < 50 || flakyBreaker === "open" || flakyBreaker === "half-open").toBe(true);
    await checkPage(page, "subscriptions-health");
    await flakyRow.getByRole("link", { name: "flaky" }).click();
    await page.getByRole("heading", { level: 2, name: "Health" }).waitFor();
    expect(Number((await page.getByTestId("health-success-rate").textContent())!.replace("%", ""))).toBeLessThan(50);
    expect(await page.getByTestId("health-attempts").textContent()).toMatch(/^\d+$/);
    expect(await page.getByTestId("health-backlog").textContent()).toMatch(/^\d+/);
    await checkPage(page, "subscription-health");
    await context.close();
    expect(pageErrors).toEqual([]);
  });

  it("a subscription's page: bulk resend after a dry run, rotate the secret (shown once), edit with If-Match and a clear conflict, live filter and transform previews", async () => {
    const { context, page } = await newPage();
    await signIn(page, writeToken);
    await page.getByRole("link", { name: "Subscriptions", exact: true }).click();
    await page.getByTestId("subscription-hooks").getByRole("link", { name: "hooks" }).click();
    await page.getByRole("heading", { level: 1, name: "Subscription hooks" }).waitFor();
    await checkPage(page, "subscription-detail");

    // Bulk resend: the dry run counts what the API's dry run counts for the same request; then it resends
    // exactly that, and the endpoint gets every event again with its webhook-id (the event key).
    await page.getByRole("button", { name: "Count matching events" }).click();
    const count = page.getByTestId("bulk-count");
    await count.waitFor();
    const request = JSON.parse((await count.getAttribute("data-request"))!);
    expect(request.dryRun).toBe(true);
    const dry = await api("POST", "/v1/subscriptions/hooks/resend-bulk", request);
    const matched = Number(await page.getByTestId("bulk-matched").textContent());
    expect(matched).toBe(dry.body.matched);
    expect(matched).toBe(sent.size);
    await checkPage(page, "subscription-bulk-resend");
    const mark = received.length;
    await page.getByRole("button", { name: `Resend ${matched} events` }).click();
    await page.getByTestId("bulk-done").waitFor();
    expect(await page.getByTestId("bulk-done").textContent()).toContain(`Resent ${matched} events`);
    await within(30_000, async () =>
      [...sent.keys()].every((k) => received.slice(mark).some((r) => r.headers["webhook-id"] === k)),
    );

    // Rotate: the new secret shown once; the API lists one more secret, the page none after a reload.
    const secretsBefore = (await api("GET", "/v1/subscriptions/hooks")).body.signingSecrets.length;
    await page.getByLabel("Overlap (seconds)").fill("3600");
    await page.getByRole("button", { name: "Rotate secret" }).click();
    await page.getByTestId("secret-value").waitFor();
    expect(await page.getByTestId("secret-value").textContent()).toMatch(/^whsec_/);
    expect(await page.getByTestId("secret-value").count()).toBe(1);
    expect((await api("GET", "/v1/subscriptions/hooks")).body.signingSecrets).toHaveLength(secretsBefore + 1);
    await checkPage(page, "subscription-rotated");
    await page.reload();
    await page.getByRole("heading", { level: 1, name: "Subscription hooks" }).waitFor();
    await page.getByTestId("revision").waitFor();
    expect(await page.getByTestId("secret-value").count()).toBe(0);

    // Edit: only the fields changed are sent, with If-Match; an emptied filter is removed (null).
    const save = () => page.getByRole("button", { name: "Save changes" }).click();
    const revisionShown = async () => Number(await page.getByTestId("revision").textContent());
    let revision = await revisionShown();
    await page.getByLabel("Event types", { exact: true }).fill("link.clicked");
    await page.getByLabel("Filter", { exact: true }).fill("type = 'link.clicked'");
    await page.getByLabel("Headers", { exact: true }).fill("X-Team: growth");
    await save();
    await expect.poll(revisionShown).toBeGreaterThan(revision);
    expect((await api("GET", "/v1/subscriptions/hooks")).body).toMatchObject({
      types: ["link.clicked"],
      filter: "type = 'link.clicked'",
      headers: { "X-Team": "growth" },
      url: endpointUrl,
    });
    revision = await revisionShown();
    await page.getByLabel("Filter", { exact: true }).fill("");
    await save();
    await expect.poll(revisionShown).toBeGreaterThan(revision);
    expect((await api("GET", "/v1/subscriptions/hooks")).body.filter).toBeUndefined();

    // Live checks as the filter and the transform are typed (POST /v1/subscriptions/preview, on a
    // real event): a filter that does not compile shows its error inline, and nothing is saved; a
    // transform shows what the endpoint would receive for the event whose key is given.
    revision = await revisionShown();
    await page.getByLabel("Filter", { exact: true }).fill("body.data.amount >");
    const previewError = page.getByTestId("preview-error");
    await previewError.waitFor();
    expect(await previewError.textContent()).toMatch(/^Filter: is not a valid JSONata expression/);
    await checkPage(page, "subscription-preview-error");
    await page.getByLabel("Filter", { exact: true }).fill("");
    const [previewKey] = [...sent.keys()];
    await page.getByLabel("Event key", { exact: true }).fill(previewKey!);
    await page
      .getByLabel("Transform", { exact: true })
      .fill("function transform(event) { return { key: event.key, source: event.source }; }");
    const output = page.getByTestId("preview-output");
    await expect
      .poll(() => output.textContent(), { timeout: 10_000 })
      .toBe(JSON.stringify({ key: previewKey, source: "shop" }));
    expect(await previewError.count()).toBe(0);
    expect(await page.getByTestId("preview-matches").textContent()).toBe("sent");
    await checkPage(page, "subscription-preview");
    await page.getByLabel("Transform", { exact: true }).fill("");
    expect(await revisionShown()).toBe(revision);

    // A change made elsewhere after the page was filled: the save is refused, clearly, and nothing is overwritten.
    expect((await api("PATCH", "/v1/subscriptions/hooks", { description: "changed elsewhere" })).status).toBe(200);
    await page.getByLabel("Endpoint URL").fill(`${endpointUrl}?v=2`);
    await save();
    const conflict = page.getByTestId("conflict");
    await conflict.waitFor();
    expect(await conflict.textContent()).toContain("Not saved: subscription hooks changed meanwhile");
    expect((await api("GET", "/v1/subscriptions/hooks")).body.url).toBe(endpointUrl);
    await checkPage(page, "subscription-conflict");
    await page.getByRole("button", { name: "Load the current settings" }).click();
    await expect.poll(() => page.getByTestId("conflict").count()).toBe(0);
    expect(await page.getByLabel("Endpoint URL").inputValue()).toBe(endpointUrl);

    // Paused from the form with a reason: the page shows the reason and when; resumed again.
    await page.getByLabel("Paused", { exact: true }).check();
    await page.getByLabel("Why paused").fill("maintenance window");
    await save();
    await expect.poll(() => page.getByTestId("state").textContent()).toBe("paused");
    expect(await page.getByTestId("paused-reason").textContent()).toBe("maintenance window");
    await checkPage(page, "subscription-paused");
    await page.getByLabel("Paused", { exact: true }).uncheck();
    await save();
    await expect.poll(() => page.getByTestId("state").textContent()).toBe("active");
    expect((await api("GET", "/v1/subscriptions/hooks")).body.paused).toBe(false);
    await context.close();
    expect(pageErrors).toEqual([]);
  });

  it("sources: secret ids and dates listed; a secret added shows its value once and can be retired", async () => {
    const { context, page } = await newPage();
    await signIn(page, topology.apiToken);
    await page.getByRole("link", { name: "Sources" }).click();
    // Created on the page: its first secret's value shown once.
    await page.getByLabel("Id").fill("crm");
    await page.getByLabel("Signature scheme").selectOption("standard-webhooks");
    await page.getByRole("button", { name: "Create source" }).click();
    await page.getByText("Source crm created.").waitFor();
    expect(await page.getByTestId("secret-value").count()).toBe(1);
    await page.getByTestId("source-crm").waitFor();
    expect((await api("GET", "/v1/sources/crm")).body.scheme.type).toBe("standard-webhooks");

    const card = page.getByTestId("source-shop");
    await card.waitFor();
    await card.getByLabel("New secret id").fill("s2");
    await card.getByRole("button", { name: "Add secret" }).click();
    await page.getByTestId("secret-value").waitFor();
    expect((await page.getByTestId("secret-value").textContent())!.length).toBeGreaterThanOrEqual(32);
    await card.getByRole("rowheader", { name: "s2" }).waitFor();
    await checkPage(page, "sources");
    await card.getByRole("button", { name: "Retire s2" }).click();
    await page.getByText("Secret s2 of shop retired.").waitFor();
    expect((await api("GET", "/v1/sources/shop")).body.secrets.map((s: { id: string }) => s.id)).not.toContain("s2");
    await context.close();
    expect(pageErrors).toEqual([]);
  });

  it("a source's page: its example request, run as shown, is accepted by a gateway for each scheme; edit with If-Match; delete after a confirmation", async () => {
    const made: Record<string, string> = { shop: shopSecret };
    for (const [id, type] of [
      ["sw", "standard-webhooks"],
      ["pay", "stripe"],
      ["gh", "github"],
    ] as const) {
      const created = await api("POST", "/v1/sources", { id, scheme: { type } });
      expect(created.status).toBe(201);
      made[id] = created.body.secrets[0].value;
    }
    const gatewayUrl = [...topology.regions.values()][0]!.gatewayUrl;
    const { context, page } = await newPage();
    await signIn(page, topology.apiToken);
    for (const [id, secret] of Object.entries(made)) {
      await page.goto(`${topology.aggregatorUrl}/console/#/sources/${id}`);
      await page.getByRole("heading", { level: 1, name: `Source ${id}` }).waitFor();
      // Refusals are the gateways' metrics, which the API cannot read: the page says so and gives the query.
      expect(await page.getByTestId("refusals-query").textContent()).toContain(
        `tributary_gateway_events_total{source="${id}", outcome="refused"}`,
      );
      const example = page.getByTestId("example-request");
      await example.waitFor();
      const script = (await example.textContent())!;
      expect(script).toMatch(/\$\{?SECRET/);
      expect(script).not.toContain(secret);
      if (id === "sw") await checkPage(page, "source-detail");
      // Run as shown, with the secret and a gateway: accepted (the gateways learn of a new source within seconds).
      const run = async () =>
        (
          await promisify(execFile)("bash", ["-c", script], {
            env: { ...process.env, SECRET: secret, GATEWAY_URL: gatewayUrl },
          })
        ).stdout;
      let answer = "";
      await within(15_000, async () => (answer = await run()).includes('"status":"accepted"')).catch(() => {});
      expect(answer, `${id}: ${answer}\n${script}`).toContain('"status":"accepted"');
    }

    // Edit: tolerance and strict, with If-Match; a change made meanwhile is a clear conflict.
    await page.goto(`${topology.aggregatorUrl}/console/#/sources/pay`);
    const revision = Number(await page.getByTestId("revision").textContent());
    await page.getByLabel("Timestamp tolerance (s)").fill("120");
    await page.getByLabel(/^Strict/).check();
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect.poll(async () => Number(await page.getByTestId("revision").textContent())).toBeGreaterThan(revision);
    expect((await api("GET", "/v1/sources/pay")).body).toMatchObject({ toleranceSeconds: 120, strict: true });
    expect(await page.getByTestId("tolerance").textContent()).toBe("120 s");
    expect((await api("PATCH", "/v1/sources/pay", { maxBodyBytes: 4096 })).status).toBe(200);
    await page.getByLabel("Timestamp tolerance (s)").fill("60");
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByTestId("conflict").waitFor();
    expect(await page.getByTestId("conflict").textContent()).toContain("Not saved: source pay changed meanwhile");
    expect((await api("GET", "/v1/sources/pay")).body.toleranceSeconds).toBe(120);
    await checkPage(page, "source-conflict");

    // Delete asks first; confirmed, the list says so and the API no longer has it.
    await page.goto(`${topology.aggregatorUrl}/console/#/sources/sw`);
    await page.getByRole("button", { name: "Delete…" }).click();
    await page.getByRole("button", { name: "Keep it" }).click();
    await page.getByRole("button", { name: "Delete…" }).click();
    await checkPage(page, "source-delete-confirm");
    await page.getByRole("button", { name: "Delete sw for good" }).click();
    await page.getByText("Source sw deleted.").waitFor();
    expect((await api("GET", "/v1/sources/sw")).status).toBe(404);
    await context.close();
    expect(pageErrors).toEqual([]);
  });

  it("the audit page lists the changes made here, each as a diff of fields; the overview shows the last ten", async () => {
    const { context, page } = await newPage();
    await signIn(page, topology.apiToken);
    // The overview's recent changes are the API's last ten records, newest first.
    const all = (await api("GET", "/v1/audit?limit=1000")).body.data as Array<{ action: string; id: string }>;
    const table = page.getByTestId("recent-changes");
    await table.waitFor();
    const rows = await table.locator("tbody tr").all();
    const shown = await Promise.all(rows.map(async (r) => (await r.locator("td").allTextContents()).slice(2)));
    expect(shown).toEqual(
      all
        .slice(-10)
        .reverse()
        .map((r: any) => [r.action, r.kind, r.id]),
    );
    await checkPage(page, "overview-later");

    await page.getByRole("link", { name: "Audit log", exact: true }).click();
    await page.getByRole("heading", { level: 1, name: "Audit log" }).waitFor();
    await page.getByLabel("Kind").selectOption("subscriptions");
    await page.getByLabel("Id", { exact: true }).fill("hooks");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await expect
      .poll(async () => new Set(await page.getByTestId("audit-id").allTextContents()))
      .toEqual(new Set(["hooks"]));
    const actions = await page.getByTestId("audit-action").allTextContents();
    for (const action of ["create", "test", "pause", "resume", "resend"]) expect(actions).toContain(action);
    const expected = (await api("GET", "/v1/audit?kind=subscriptions&id=hooks&limit=25")).body.data;
    expect(actions).toEqual(expected.map((r: { action: string }) => r.action));
    // A pause is a diff of its fields: paused false -> true.
    const pause = page
      .getByTestId("audit-record")
      .filter({ has: page.getByTestId("audit-action").getByText("pause", { exact: true }) });
    const pausedRow = pause.first().getByRole("row", { name: /^paused / });
    expect(await pausedRow.locator("td").allTextContents()).toEqual(["false", "true"]);
    await checkPage(page, "audit");

    // Pages of two, by since: every record of the filter once.
    await page.goto(`${topology.aggregatorUrl}/console/#/audit?kind=subscriptions&id=hooks&limit=2`);
    const seen: string[] = [];
    const current = page.locator('[data-testid="audit-records"][data-current="true"]');
    for (;;) {
      await current.waitFor();
      seen.push(...(await page.getByTestId("audit-action").allTextContents()));
      const next = current.getByRole("link", { name: "Next page" });
      if ((await next.count()) === 0) break;
      await next.click();
      await current.waitFor({ state: "detached", timeout: 5000 }).catch(() => {});
    }
    expect(seen).toEqual(actions);
    await context.close();
    expect(pageErrors).toEqual([]);
  });

  /** A Standard Webhooks signature (`v1,<base64>` of HMAC-SHA256 over `id.timestamp.body`), computed here. */
  const signedBy = (secret: string, r: Received) => {
    const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
    const mac = createHmac("sha256", key)
      .update(`${r.headers["webhook-id"]}.${r.headers["webhook-timestamp"]}.${r.body}`)
      .digest("base64");
    return String(r.headers["webhook-signature"]).split(" ").includes(`v1,${mac}`);
  };

  it("a subscription's dead letters: listed on its DLQ tab, inspected, replayed with a corrected body through its transform and signature, replayed as is, dropped after a confirmation", async () => {
    // Every shop event so far goes to an endpoint that refuses it: each one a dead letter.
    const created = await api("POST", "/v1/subscriptions", {
      id: "rejecting",
      url: endpointUrl.replace(/\/hooks$/, "/reject"),
      sources: ["shop"],
      start: "all",
      transform:
        "function transform(e) { return { key: e.key, fixed: e.body.fixed === true, link: e.body.data.link_id }; }",
    });
    expect(created.status).toBe(201);
    const secret = created.body.signingSecret as string;
    const loaded = (await api("GET", "/v1/events?source=shop&limit=100")).body.data.length as number;
    await within(30_000, async () => (await api("GET", "/v1/subscriptions/rejecting/dlq")).body.total >= loaded);
    await new Promise((r) => setTimeout(r, 1000)); // any stragglers of the stream's shop events
    const shopEvents = (await api("GET", "/v1/subscriptions/rejecting/dlq")).body.total as number;
    const entries = (await api("GET", "/v1/subscriptions/rejecting/dlq")).body.data as Array<{
      seq: number;
      eventKey: string;
    }>;

    const { context, page } = await newPage();
    await signIn(page, writeToken);
    await page.goto(`${topology.aggregatorUrl}/console/#/subscriptions/rejecting`);
    await page
      .getByRole("navigation", { name: "Subscription rejecting" })
      .getByRole("link", { name: "Dead letters" })
      .click();
    const list = page.getByTestId("dlq-list");
    await list.waitFor();
    expect(await list.locator("tbody tr").count()).toBe(shopEvents);
    expect(await page.getByTestId("dlq-total").textContent()).toBe(`${shopEvents} entries in this subscription's DLQ.`);
    expect(await list.getByTestId("dlq-reason").allTextContents()).toEqual(entries.map(() => "rejected: HTTP 400"));
    await checkPage(page, "subscription-dlq");

    // Inspected: its reason, the endpoint's answer, the event as set aside.
    const [first, second, third] = entries;
    await page.getByRole("link", { name: `Inspect dead letter ${first!.seq} (${first!.eventKey})` }).click();
    const entry = page.getByTestId("dlq-entry");
    await entry.waitFor();
    expect(await entry.getByTestId("dlq-entry-key").textContent()).toBe(first!.eventKey);
    expect(await entry.getByTestId("dlq-entry-reason").textContent()).toBe("rejected: HTTP 400");
    const body = page.getByLabel("Body to replay");
    const original = JSON.parse(await body.inputValue()) as Record<string, unknown>;
    expect(original.event_id).toBe(first!.eventKey.replace(/^shop:/, ""));
    await checkPage(page, "subscription-dlq-entry");

    // A body that is not JSON is refused with the API's code; nothing moves.
    await body.fill("{not json");
    await entry.getByRole("button", { name: "Replay with this body" }).click();
    await entry.getByRole("alert").getByText("invalid_replay_body").waitFor();
    expect((await api("GET", `/v1/subscriptions/rejecting/dlq/${first!.seq}`)).status).toBe(200);

    // Corrected and replayed: delivered once more through the transform, signed, with the event's key as webhook-id.
    rejecting = false;
    await body.fill(JSON.stringify({ ...original, fixed: true }));
    const before = received.length;
    await entry.getByRole("button", { name: "Replay with this body" }).click();
    await page
      .getByText(`Dead letter #${first!.seq} (${first!.eventKey}) sent to rejecting again, corrected.`)
      .waitFor();
    await expect.poll(() => list.locator("tbody tr").count()).toBe(shopEvents - 1);
    await within(20_000, async () => received.slice(before).some((r) => r.url === "/reject"));
    const delivered = received.slice(before).find((r) => r.url === "/reject")!;
    expect(delivered.headers["webhook-id"]).toBe(first!.eventKey);
    expect(JSON.parse(delivered.body)).toEqual({ key: first!.eventKey, fixed: true, link: expect.any(String) });
    expect(signedBy(secret, delivered)).toBe(true);

    // Replayed as it is: the event as first sent, through the same transform.
    await page.getByRole("link", { name: `Inspect dead letter ${second!.seq} (${second!.eventKey})` }).click();
    await entry.getByRole("button", { name: "Replay", exact: true }).click();
    await page.getByText(`Dead letter #${second!.seq} (${second!.eventKey}) sent to rejecting again.`).waitFor();
    await within(20_000, async () =>
      received.some((r) => r.url === "/reject" && r.headers["webhook-id"] === second!.eventKey),
    );
    const again = received.find((r) => r.url === "/reject" && r.headers["webhook-id"] === second!.eventKey)!;
    expect(JSON.parse(again.body)).toMatchObject({ key: second!.eventKey, fixed: false });

    // Dropped after a confirmation: gone from the page and the API.
    await page.getByRole("link", { name: `Inspect dead letter ${third!.seq} (${third!.eventKey})` }).click();
    await entry.getByRole("button", { name: "Drop…" }).click();
    await entry.getByRole("button", { name: "Keep it" }).click();
    await entry.getByRole("button", { name: "Drop…" }).click();
    await entry.getByRole("button", { name: `Drop #${third!.seq} for good` }).click();
    await page.getByText(`Dead letter #${third!.seq} dropped.`).waitFor();
    expect((await api("GET", `/v1/subscriptions/rejecting/dlq/${third!.seq}`)).status).toBe(404);
    expect((await api("GET", "/v1/subscriptions/rejecting/dlq")).body.total).toBe(shopEvents - 3);
    const audited = (await api("GET", "/v1/audit?kind=subscriptions&id=rejecting")).body.data as any[];
    expect(audited.map((r) => r.action)).toEqual(["create", "dlq_replay", "dlq_replay", "dlq_drop"]);
    await context.close();
    expect(pageErrors).toEqual([]);
  });

  it("the loader's dead letters: counted by source, inspected, replayed with a corrected body into the warehouse, dropped; a write token may look but not change them", async () => {
    // Poison events published straight into the hub, as a foreign publisher would: valid headers, a broken body.
    const nc = await connect({
      servers: topology.hub.url,
      user: topology.credentials.admin.user,
      pass: topology.credentials.admin.password,
      inboxPrefix: "_INBOX_admin",
    });
    const ids = [0, 1, 2].map(() => `poison-${randomUUID()}`);
    for (const id of ids) {
      const h = natsHeaders();
      h.set("Nats-Msg-Id", `shop:${id}`);
      h.set("Tributary-Source", "shop");
      h.set("Tributary-Region", "us");
      h.set("Tributary-Received-At", new Date().toISOString());
      h.set("Tributary-Event-Type", "link.clicked");
      await jetstream(nc).publish("replay.shop", `{"event_id": "${id}", broken`, { headers: h });
    }
    await nc.close();
    await within(30_000, async () => (await api("GET", "/v1/dlq?source=shop")).body.counts?.shop === 3);
    const entries = (await api("GET", "/v1/dlq?source=shop")).body.data as Array<{ seq: number; eventKey: string }>;

    // A write token reads them, and sees nothing that changes them (that takes admin).
    const { context, page } = await newPage();
    await signIn(page, writeToken);
    await page.getByRole("link", { name: "Dead letters", exact: true }).click();
    await page.getByRole("heading", { level: 1, name: "Dead letters" }).waitFor();
    expect(await page.getByTestId("dlq-count-shop").getByTestId("count").textContent()).toBe("3");
    await page.getByRole("link", { name: `Inspect dead letter ${entries[0]!.seq} (shop:${ids[0]})` }).click();
    await page.getByTestId("dlq-entry-body").waitFor();
    expect(await page.locator("main button").count()).toBe(0);
    expect(await page.locator("main textarea").count()).toBe(0);
    await context.close();

    const admin = await newPage();
    const p = admin.page;
    await signIn(p, topology.apiToken);
    await p.getByRole("link", { name: "Dead letters", exact: true }).click();
    await p.getByTestId("dlq-count-shop").getByRole("link", { name: "shop" }).click();
    await p.getByRole("heading", { level: 2, name: "Dead letters of shop" }).waitFor();
    await checkPage(p, "dead-letters");
    await p.getByRole("link", { name: `Inspect dead letter ${entries[0]!.seq} (shop:${ids[0]})` }).click();
    const entry = p.getByTestId("dlq-entry");
    expect(await entry.getByTestId("dlq-entry-reason").textContent()).toMatch(/^invalid_json/);
    const body = p.getByLabel("Body to replay");
    expect(await body.inputValue()).toBe(`{"event_id": "${ids[0]}", broken`);
    await checkPage(p, "dead-letter-entry");

    // Corrected and replayed: the event reaches the warehouse under its key, once.
    const fixed = {
      event_id: ids[0],
      type: "link.clicked",
      occurred_at: new Date().toISOString(),
      data: { link_id: "l-fixed" },
    };
    await body.fill(JSON.stringify(fixed));
    await entry.getByRole("button", { name: "Replay with this body" }).click();
    await p
      .getByText(`Dead letter #${entries[0]!.seq} (shop:${ids[0]}) put back into the hub stream, corrected.`)
      .waitFor();
    await within(30_000, async () => (await api("GET", `/v1/events/shop:${ids[0]}`)).status === 200);
    expect((await api("GET", `/v1/events/shop:${ids[0]}`)).body.payload).toMatchObject({
      data: { link_id: "l-fixed" },
    });
    await expect.poll(() => p.getByTestId("dlq-count-shop").getByTestId("count").textContent()).toBe("2");

    // Dropped after a confirmation.
    await p.getByRole("link", { name: `Inspect dead letter ${entries[1]!.seq} (shop:${ids[1]})` }).click();
    await entry.getByRole("button", { name: "Drop…" }).click();
    await entry.getByRole("button", { name: `Drop #${entries[1]!.seq} for good` }).click();
    await p.getByText(`Dead letter #${entries[1]!.seq} dropped.`).waitFor();
    expect((await api("GET", `/v1/dlq/${entries[1]!.seq}`)).status).toBe(404);
    expect((await api("GET", "/v1/audit?kind=dlq&id=shop")).body.data.map((r: any) => r.action)).toEqual([
      "dlq_replay",
      "dlq_drop",
    ]);
    await admin.context.close();
    expect(pageErrors).toEqual([]);
  });

  it("a read-only token sees every page with no button that changes anything, and its direct write is refused (403)", async () => {
    const { context, page } = await newPage();
    await signIn(page, readToken);
    await expect.poll(() => page.getByTestId("scope").textContent()).toBe("read");
    expect(await page.getByTestId("token-id").textContent()).toBe("viewer");
    await page.getByTestId("overview").waitFor();
    expect(await page.getByRole("link", { name: "Audit log", exact: true }).count()).toBe(0);
    expect(await page.getByTestId("recent-changes").count()).toBe(0);
    await checkPage(page, "overview-read-only");
    const changing = /create|add|retire|pause|resume|delete|test|resend/i;
    const mainButtons = () => page.locator("main button").allTextContents();

    await page.getByRole("link", { name: "Subscriptions" }).click();
    await page.getByTestId("subscription-hooks").waitFor();
    expect(await mainButtons()).toEqual([]);
    expect(await page.locator("main form").count()).toBe(0);
    await checkPage(page, "subscriptions-read-only");

    await page.getByRole("link", { name: "Sources" }).click();
    await page.getByTestId("source-shop").waitFor();
    expect((await mainButtons()).filter((t) => changing.test(t))).toEqual([]);
    expect(await page.locator("main form").count()).toBe(0);
    await checkPage(page, "sources-read-only");

    await page.goto(`${topology.aggregatorUrl}/console/#/subscriptions/hooks`);
    await page.getByTestId("revision").waitFor();
    expect(await mainButtons()).toEqual([]);
    expect(await page.locator("main form").count()).toBe(0);
    await checkPage(page, "subscription-detail-read-only");

    // Dead letters, a subscription's and the loader's: listed and inspected, nothing to replay or drop.
    await page.goto(`${topology.aggregatorUrl}/console/#/subscriptions/rejecting/dlq`);
    await page.getByTestId("dlq-list").locator("tbody tr th a").first().click();
    await page.getByTestId("dlq-entry-body").waitFor();
    expect(await mainButtons()).toEqual([]);
    expect(await page.locator("main textarea").count()).toBe(0);
    await checkPage(page, "subscription-dlq-read-only");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Dead letters" }).click();
    await page.getByTestId("dlq-list").locator("tbody tr th a").first().click();
    await page.getByTestId("dlq-entry-body").waitFor();
    expect(await mainButtons()).toEqual([]);
    expect(await page.locator("main textarea").count()).toBe(0);
    await checkPage(page, "dead-letters-read-only");

    const [key] = [...sent.keys()];
    await page.goto(`${topology.aggregatorUrl}/console/#/events/${encodeURIComponent(key!)}`);
    await page.getByTestId("payload").waitFor();
    // Reading the delivery log again is the one button, and it changes nothing.
    expect(await mainButtons()).toEqual(["Refresh deliveries"]);
    await checkPage(page, "event-detail-read-only");

    // The API refuses the token's writes whatever a page shows: asked from the page, with its token.
    const refused = await page.evaluate(async (token) => {
      const res = await fetch("/v1/subscriptions/hooks/pause", {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: "{}",
      });
      return { status: res.status, body: (await res.json()) as { error: { code: string } } };
    }, readToken);
    expect(refused).toMatchObject({ status: 403, body: { error: { code: "forbidden_scope" } } });
    expect((await api("GET", "/v1/subscriptions/hooks")).body.paused).toBe(false);
    const [letter] = (await api("GET", "/v1/subscriptions/rejecting/dlq")).body.data as Array<{ seq: number }>;
    const refusedReplay = await page.evaluate(
      async ([token, seq]) =>
        (
          await fetch(`/v1/subscriptions/rejecting/dlq/${seq}/replay`, {
            method: "POST",
            headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
            body: "{}",
          })
        ).status,
      [readToken, letter!.seq] as const,
    );
    expect(refusedReplay).toBe(403);
    expect((await api("GET", `/v1/subscriptions/rejecting/dlq/${letter!.seq}`)).status).toBe(200);
    await context.close();
    expect(pageErrors).toEqual([]);
  });

  it("a write token changes subscriptions but sees no button that changes sources", async () => {
    const { context, page } = await newPage();
    await signIn(page, writeToken);
    await expect.poll(() => page.getByTestId("scope").textContent()).toBe("write");
    expect(await page.getByTestId("token-id").textContent()).toBe("operator");
    await page.getByRole("link", { name: "Subscriptions" }).click();
    await page.getByTestId("subscription-hooks").getByRole("button", { name: "Pause" }).waitFor();
    expect(await page.getByRole("button", { name: "Create subscription" }).count()).toBe(1);
    expect(await page.getByRole("link", { name: "Audit log", exact: true }).count()).toBe(0);
    await page.getByRole("link", { name: "Sources" }).click();
    await page.getByTestId("source-shop").waitFor();
    expect(await page.locator("main button").allTextContents()).toEqual([]);
    expect(await page.locator("main form").count()).toBe(0);
    // A source's page: the example request, and nothing that changes the source.
    await page.getByTestId("source-shop").getByRole("link", { name: "shop" }).click();
    await page.getByTestId("example-request").waitFor();
    expect(await page.locator("main button").allTextContents()).toEqual(["Copy the script"]);
    expect(await page.locator("main form").count()).toBe(0);
    await checkPage(page, "source-detail-write");
    await context.close();
    expect(pageErrors).toEqual([]);
  });

  it("the console's files carry the page's security headers, and every path below /console/ opens it", async () => {
    const res = await fetch(`${topology.aggregatorUrl}/console/subscriptions`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect(await res.text()).toContain('<div id="app">');
    expect((await fetch(`${topology.aggregatorUrl}/console/assets/missing.js`)).status).toBe(404);
  });
});
