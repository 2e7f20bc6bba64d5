import { connect, type Socket } from "node:net";

/** What came back on a raw connection: the first final answer, or how the connection ended without one. */
export interface RawAnswer {
  /** The status of the first final (non-1xx) answer, or null when the connection ended without one. */
  status: number | null;
  /** Its headers, names lower-case (a repeated header keeps the last value). */
  headers: Record<string, string>;
  body: string;
  /** Milliseconds from the first byte written to the answer (or to the end of the connection). */
  ms: number;
  /** How a connection without an answer ended: the server closed it, reset it, or we gave up waiting. */
  ended?: "closed" | "reset" | "gave_up";
}

export type HeaderList = ReadonlyArray<readonly [string, string]>;

/**
 * An HTTP/1.1 request as bytes, exactly as given: header lines in order (repeats allowed), no
 * header added except `host` (first) and, when `body` is a Buffer and none is listed,
 * `content-length`. Names and values are written as latin1, so any byte can be sent.
 */
export function requestBytes(input: {
  method?: string;
  path: string;
  headers: HeaderList;
  body?: Buffer;
  port: number;
}): Buffer {
  const lines = [`${input.method ?? "POST"} ${input.path} HTTP/1.1`, `host: 127.0.0.1:${input.port}`];
  const listed = new Set(input.headers.map(([name]) => name.toLowerCase()));
  for (const [name, value] of input.headers) lines.push(`${name}: ${value}`);
  if (input.body && !listed.has("content-length") && !listed.has("transfer-encoding"))
    lines.push(`content-length: ${input.body.length}`);
  const head = Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1");
  return input.body ? Buffer.concat([head, input.body]) : head;
}

/** A chunked body: each part as one chunk (hex size, CRLF, data, CRLF), then the last chunk. */
export function chunked(parts: Buffer[]): Buffer {
  const out: Buffer[] = [];
  for (const part of parts) out.push(Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from("\r\n"));
  out.push(Buffer.from("0\r\n\r\n"));
  return Buffer.concat(out);
}

/**
 * Reads HTTP/1.1 answers off a byte stream: status line, headers, then a Content-Length body, a
 * chunked body, or (neither) the rest until the connection ends. 1xx answers are skipped.
 */
class AnswerParser {
  #buffer: Buffer = Buffer.alloc(0);
  push(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
  }
  /** The next complete answer, if the bytes so far hold one; `ended`: no more bytes will come. */
  take(ended: boolean, head = false): Omit<RawAnswer, "ms"> | undefined {
    for (;;) {
      const headEnd = this.#buffer.indexOf("\r\n\r\n");
      if (headEnd === -1) return undefined;
      const [statusLine, ...lines] = this.#buffer.subarray(0, headEnd).toString("latin1").split("\r\n");
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? "")?.[1] ?? NaN);
      if (!Number.isInteger(status)) throw new Error(`not an HTTP answer: ${JSON.stringify(statusLine)}`);
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(":");
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const rest = this.#buffer.subarray(headEnd + 4);
      if (status >= 100 && status < 200) {
        this.#buffer = rest;
        continue;
      }
      const body = head ? { text: "", rest } : this.#body(rest, headers, ended);
      if (body === undefined) return undefined;
      this.#buffer = body.rest;
      return { status, headers, body: body.text };
    }
  }
  #body(rest: Buffer, headers: Record<string, string>, ended: boolean) {
    const length = headers["content-length"];
    if (length !== undefined) {
      const n = Number(length);
      if (rest.length < n) return undefined;
      return { text: rest.subarray(0, n).toString("utf8"), rest: rest.subarray(n) };
    }
    if (headers["transfer-encoding"]?.toLowerCase() === "chunked") {
      const parts: Buffer[] = [];
      let at = 0;
      for (;;) {
        const lineEnd = rest.indexOf("\r\n", at);
        if (lineEnd === -1) return undefined;
        const size = parseInt(rest.subarray(at, lineEnd).toString("latin1"), 16);
        if (size === 0) {
          const end = rest.indexOf("\r\n\r\n", lineEnd);
          if (end === -1) return undefined;
          return { text: Buffer.concat(parts).toString("utf8"), rest: rest.subarray(end + 4) };
        }
        if (rest.length < lineEnd + 2 + size + 2) return undefined;
        parts.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
        at = lineEnd + 2 + size + 2;
      }
    }
    if (!ended) return undefined;
    return { text: rest.toString("utf8"), rest: Buffer.alloc(0) };
  }
}

interface Live {
  socket: Socket;
  parser: AnswerParser;
  ended: "closed" | "reset" | undefined;
}

/**
 * One keep-alive connection that sends requests one after another and reads each answer; it
 * reconnects when the server closed the previous connection (after `connection: close`, a
 * refusal that ends the connection, or an idle timeout).
 */
export class RawConnection {
  #live: Live | undefined;
  #waiting: (() => void) | undefined;
  /** How many TCP connections this one has opened so far. */
  connects = 0;

  constructor(readonly port: number) {}

  #open(): Live {
    const live: Live = { socket: connect(this.port, "127.0.0.1"), parser: new AnswerParser(), ended: undefined };
    live.socket.setNoDelay(true);
    this.connects++;
    // Events of a connection this one has moved on from are ignored.
    const notify = () => {
      if (this.#live === live) this.#waiting?.();
    };
    live.socket.on("data", (chunk: Buffer) => {
      live.parser.push(chunk);
      notify();
    });
    const end = (how: "closed" | "reset") => {
      live.ended ??= how;
      notify();
    };
    live.socket.on("error", (err: NodeJS.ErrnoException) => end(err.code === "ECONNRESET" ? "reset" : "closed"));
    live.socket.on("close", () => end("closed"));
    live.socket.on("end", () => end("closed"));
    this.#live = live;
    return live;
  }

  /** Writes `bytes` and resolves with the answer (or how the connection ended without one). */
  async request(bytes: Buffer, opts: { timeoutMs?: number; head?: boolean } = {}): Promise<RawAnswer> {
    const live = this.#live && this.#live.ended === undefined ? this.#live : this.#open();
    const started = Date.now();
    live.socket.write(bytes);
    return new Promise<RawAnswer>((resolve) => {
      const finish = (answer: Omit<RawAnswer, "ms">) => {
        clearTimeout(timer);
        this.#waiting = undefined;
        if (answer.status === null || answer.headers.connection?.toLowerCase() === "close") this.close();
        resolve({ ...answer, ms: Date.now() - started });
      };
      const timer = setTimeout(
        () => finish({ status: null, headers: {}, body: "", ended: "gave_up" }),
        opts.timeoutMs ?? 15_000,
      );
      const check = () => {
        let answer: Omit<RawAnswer, "ms"> | undefined;
        try {
          answer = live.parser.take(live.ended !== undefined, opts.head);
        } catch {
          answer = { status: null, headers: {}, body: "", ended: live.ended ?? "closed" };
        }
        if (answer) finish(answer);
        else if (live.ended !== undefined) finish({ status: null, headers: {}, body: "", ended: live.ended });
      };
      this.#waiting = check;
      check();
    });
  }

  close(): void {
    this.#live?.socket.destroy();
    this.#live = undefined;
  }
}

/** A step of a scripted exchange: bytes to write, a pause, or the end of what we send (half-close). */
export type Step = Buffer | { pauseMs: number } | "end";

/**
 * A fresh connection that plays `steps` (writes, pauses, half-close) and resolves with the first
 * answer, or with how the connection ended without one, or after `giveUpMs`. The socket is then
 * destroyed: one exchange per connection, for requests that break HTTP itself.
 */
export function rawExchange(port: number, steps: Step[], giveUpMs = 10_000): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.setNoDelay(true);
    const parser = new AnswerParser();
    const started = Date.now();
    let done = false;
    const finish = (answer: Omit<RawAnswer, "ms">) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...answer, ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish({ status: null, headers: {}, body: "", ended: "gave_up" }), giveUpMs);
    const check = (ended: "closed" | "reset" | undefined) => {
      let answer: Omit<RawAnswer, "ms"> | undefined;
      try {
        answer = parser.take(ended !== undefined);
      } catch {
        answer = { status: null, headers: {}, body: "", ended: ended ?? "closed" };
      }
      if (answer) finish(answer);
      else if (ended !== undefined) finish({ status: null, headers: {}, body: "", ended });
    };
    socket.on("data", (chunk: Buffer) => {
      parser.push(chunk);
      check(undefined);
    });
    socket.on("error", (err: NodeJS.ErrnoException) => check(err.code === "ECONNRESET" ? "reset" : "closed"));
    socket.on("end", () => check("closed"));
    socket.on("close", () => check("closed"));
    void (async () => {
      for (const step of steps) {
        if (done) return;
        if (step === "end") socket.end();
        else if (Buffer.isBuffer(step)) socket.write(step);
        else await new Promise((r) => setTimeout(r, step.pauseMs));
      }
    })();
  });
}
