// k6/http under Node, for the contract test. k6's HTTP calls are synchronous; so are these: each
// runs in a short-lived child Node process (fetch), and the parent waits for it. Every call and
// its response is recorded for the test to inspect. A refusal by the gateway's pressure guard (503
// overloaded, "event loop"/"heap", before the body is read: nothing verified or stored; testkit's
// isPressureRefusal) is sent again, so the contract checks what the gateway does with the script's
// requests, not how this machine schedules a loaded test run. Real k6 runs count it as a failure.
import { execFileSync } from "node:child_process";

export interface RecordedCall {
  method: string;
  url: string;
  body: string | undefined;
  headers: Record<string, string>;
  response: { status: number; body: string };
}

export const calls: RecordedCall[] = [];

const CHILD = `
let input = "";
for await (const chunk of process.stdin) input += chunk;
const req = JSON.parse(input);
try {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body });
    const body = await res.text();
    const pressure = res.status === 503 && /"code":"overloaded".*(event loop|heap)/.test(body);
    if (pressure && attempt < 30) {
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    process.stdout.write(JSON.stringify({ status: res.status, body }));
    break;
  }
} catch (err) {
  process.stdout.write(JSON.stringify({ status: 0, body: String(err) }));
}`;

function request(method: string, url: string, body?: string | null, params?: { headers?: Record<string, string> }) {
  const headers = params?.headers ?? {};
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", CHILD], {
    input: JSON.stringify({ method, url, headers, body: body ?? undefined }),
    encoding: "utf8",
  });
  const response = JSON.parse(out) as { status: number; body: string };
  calls.push({ method, url, body: body ?? undefined, headers, response });
  return { status: response.status, body: response.body, json: () => JSON.parse(response.body) as unknown };
}

export default {
  get: (url: string, params?: { headers?: Record<string, string> }) => request("GET", url, null, params),
  post: (url: string, body: string, params?: { headers?: Record<string, string> }) =>
    request("POST", url, body, params),
};
