import { describe, expect, it } from "vitest";
import { BODY_SNIPPET_CHARS, MAX_DETAIL_CHARS, scrubDetail } from "../src/scrub.js";

const body = JSON.stringify({
  event: "link.clicked",
  data: { email: "jane.doe.private@example.com", ip: "203.0.113.77", note: "x".repeat(600) },
});

/** Whether `text` shares a stretch of `length` characters with `body`. */
function shares(text: string, body: string, length = 2 * BODY_SNIPPET_CHARS): boolean {
  for (let i = 0; i + length <= text.length; i++) if (body.includes(text.slice(i, i + length))) return true;
  return false;
}

describe("error texts fit to persist", () => {
  it("L5 - a stretch of the event's body in an error keeps only a short snippet; the rest of the text stays", () => {
    const text = `TypeError: cannot read ${body} at transform (line 3)`;
    const scrubbed = scrubDetail(text, [body], 2_000);
    expect(scrubbed.startsWith("TypeError: cannot read ")).toBe(true);
    expect(scrubbed.endsWith(" at transform (line 3)")).toBe(true);
    expect(scrubbed).not.toContain("jane.doe.private@example.com");
    expect(scrubbed).toContain(`${body.slice(0, BODY_SNIPPET_CHARS)}…`);
    // A value quoted on its own (as JSONata and QuickJS errors do) is cut as well.
    const quoted = scrubDetail(`D3030: Unable to cast value to a number: "${"x".repeat(100)}"`, [body]);
    expect(quoted.startsWith('D3030: Unable to cast value to a number: "xxxxxxxxxxxxxxx…')).toBe(true);
    expect(shares(quoted, body)).toBe(false);
    expect(shares(scrubbed, body)).toBe(false);
  });

  it("L5 - a destination echoing the body it was sent is cut the same way; short body values and unrelated text stay; long texts are cut to the limit", () => {
    const sent = JSON.stringify({ id: "demo:1", customer: "cus_9f8e7d6c5b4a39281706" });
    const echoed = `{"error":"unknown customer","request":${sent}}`;
    const scrubbed = scrubDetail(echoed, [body, sent], 500);
    expect(scrubbed).toBe(`{"error":"unknown customer","request":${sent.slice(0, BODY_SNIPPET_CHARS)}…}`);
    expect(scrubbed).not.toContain("cus_9f8e7d6c5b4a39281706");
    expect(scrubDetail("HTTP 400: ip 203.0.113.77 blocked", [body])).toBe("HTTP 400: ip 203.0.113.77 blocked");
    const long = scrubDetail("y".repeat(5_000), [body]);
    expect(long).toHaveLength(MAX_DETAIL_CHARS);
    expect(scrubDetail("line one\nline two", [body])).toBe("line one line two");
  });
});
