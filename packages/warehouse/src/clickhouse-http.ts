import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { gunzip, gzip } from "node:zlib";
import { Pool, type Dispatcher } from "undici";
import { WarehouseError } from "./sink.js";

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/**
 * The largest answer the client reads, compressed or inflated: a read past it fails instead of
 * being buffered whole. The query API's pages stay far below it (8 MiB budgets); a query that
 * would return more is a bug or an attack, and in the aggregator it would share the heap with
 * the loader.
 */
export const DEFAULT_MAX_ANSWER_BYTES = 128 * 1024 * 1024;

export interface ClickHouseHttpOptions {
  /** `http://host:port` or `https://host:port`. */
  origin: string;
  user?: string;
  password?: string;
  /** Gzip request bodies and ask for gzip responses. */
  compression: boolean;
  /** Limit for one request, from connecting to the last byte of the answer. */
  timeoutMs: number;
  /** Keep-alive connections in the pool. */
  connections: number;
  /** How errors name the server (never with the password). */
  label: string;
  /** The largest answer read, before and after gunzip (default DEFAULT_MAX_ANSWER_BYTES). */
  maxAnswerBytes?: number;
}

/** A one-column String table sent with a query (ClickHouse "external data"). */
export interface ExternalTable {
  name: string;
  column: string;
  values: readonly string[];
}

export type RequestKind = "insert" | "read" | "ddl";

// ClickHouse error codes that mean "this data cannot be stored", whatever HTTP status carries them
// (18.16 answers 400 for some and 500 for others, e.g. INCORRECT_DATA).
const DATA_ERROR_CODES = new Set([
  6, // CANNOT_PARSE_TEXT
  25, // CANNOT_PARSE_ESCAPE_SEQUENCE (e.g. a lone UTF-16 surrogate in a string)
  26, // CANNOT_PARSE_QUOTED_STRING
  27, // CANNOT_PARSE_INPUT_ASSERTION_FAILED
  38, // CANNOT_PARSE_DATE
  41, // CANNOT_PARSE_DATETIME
  53, // TYPE_MISMATCH
  69, // ARGUMENT_OUT_OF_BOUND
  70, // CANNOT_CONVERT_TYPE
  72, // CANNOT_PARSE_NUMBER
  117, // INCORRECT_DATA
  131, // TOO_LARGE_STRING_SIZE
  321, // VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
  349, // CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN
]);

/** The `Code: N` of a ClickHouse exception text (every version starts its error bodies so). */
export function exceptionCode(body: string, header?: string): number | null {
  if (header && /^\d+$/.test(header)) return Number(header);
  const match = /Code: (\d+)/.exec(body);
  return match ? Number(match[1]) : null;
}

/**
 * Maps a failed answer to the error the loader acts on. Only an insert can be `warehouse_rejected`,
 * and only when the rows are at fault (a data error code, or a 4xx without a ClickHouse code, such
 * as a proxy's 413): the loader then splits the batch and dead-letters the bad rows, so anything
 * that is not the rows' fault — auth, a missing table, a syntax error of ours, overload, any 5xx —
 * is `warehouse_unavailable` and retried, keeping the events in the stream until someone fixes it.
 */
export function classifyFailure(kind: RequestKind, status: number, code: number | null): WarehouseError["code"] {
  if (kind !== "insert") return "warehouse_unavailable";
  if (code !== null) return DATA_ERROR_CODES.has(code) ? "warehouse_rejected" : "warehouse_unavailable";
  return status === 400 || status === 413 || status === 422 ? "warehouse_rejected" : "warehouse_unavailable";
}

export interface RequestOptions {
  kind: RequestKind;
  /** Settings sent as URL parameters. */
  settings?: Record<string, string | number>;
  timeoutMs?: number;
}

/**
 * A small ClickHouse HTTP client on an undici keep-alive pool: every request has a deadline, gzip
 * both ways when asked, errors mapped to WarehouseError. Reads are sent with `wait_end_of_query=1`
 * so that an error in the middle of a result is an HTTP error, not a 200 with a truncated body.
 */
export class ClickHouseHttp {
  readonly #pool: Pool;
  readonly #auth: string | undefined;

  constructor(private readonly opts: ClickHouseHttpOptions) {
    this.#pool = new Pool(opts.origin, {
      connections: opts.connections,
      // ClickHouse closes idle connections after its keep_alive_timeout (3 s in Debian's config,
      // 10 s by default) and says so in a Keep-Alive header, which undici honours; this is the cap.
      keepAliveTimeout: 2_000,
      keepAliveMaxTimeout: 10_000,
      connectTimeout: Math.min(opts.timeoutMs, 10_000),
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
    });
    if (opts.user !== undefined || opts.password !== undefined) {
      this.#auth = "Basic " + Buffer.from(`${opts.user ?? "default"}:${opts.password ?? ""}`).toString("base64");
    }
  }

  /** Runs a statement (sent as the body) and returns the answer's text. */
  query(sql: string, options: RequestOptions): Promise<string> {
    const settings: Record<string, string | number> = { ...options.settings };
    if (options.kind === "read") {
      settings.wait_end_of_query = 1;
      settings.max_execution_time = Math.max(1, Math.ceil((options.timeoutMs ?? this.opts.timeoutMs) / 1000));
    }
    return this.#send(new URLSearchParams(stringify(settings)), Buffer.from(sql), false, options);
  }

  /**
   * Runs a read that uses a temporary table sent along with it (ClickHouse's "external data": a
   * multipart/form-data part per table, available in every release). This is how a batch's keys
   * reach the key check: no SQL to parse per key and no max_query_size (256 KiB) to stay under.
   */
  queryWithTable(sql: string, table: ExternalTable, options: Omit<RequestOptions, "kind">): Promise<string> {
    const boundary = `tributary-${randomUUID()}`;
    const head =
      `--${boundary}\r\nContent-Disposition: form-data; name="${table.name}"; filename="${table.name}.tsv"\r\n` +
      `Content-Type: application/octet-stream\r\n\r\n`;
    let data = "";
    for (const value of table.values) data += tsvEscape(value) + "\n";
    const body = Buffer.from(`${head}${data}\r\n--${boundary}--\r\n`);
    const params = new URLSearchParams({
      ...stringify(options.settings ?? {}),
      query: sql,
      [`${table.name}_structure`]: `${table.column} String`,
      [`${table.name}_format`]: "TabSeparated",
      wait_end_of_query: "1",
      max_execution_time: String(Math.max(1, Math.ceil((options.timeoutMs ?? this.opts.timeoutMs) / 1000))),
    });
    return this.#send(params, body, false, { ...options, kind: "read" }, `multipart/form-data; boundary=${boundary}`);
  }

  /** `INSERT … FORMAT …` with the data as the body (compressed when the pool was told to). */
  async insert(statement: string, data: string, options: Omit<RequestOptions, "kind">): Promise<void> {
    const params = new URLSearchParams({ ...stringify(options.settings ?? {}), query: statement });
    let body = Buffer.from(data);
    if (this.opts.compression) body = await gzipAsync(body, { level: 1 });
    await this.#send(params, body, this.opts.compression, { ...options, kind: "insert" });
  }

  async #send(
    params: URLSearchParams,
    body: Buffer,
    gzipped: boolean,
    options: RequestOptions,
    contentType = "text/plain; charset=utf-8",
  ): Promise<string> {
    const timeoutMs = options.timeoutMs ?? this.opts.timeoutMs;
    if (this.opts.compression) params.set("enable_http_compression", "1");
    const headers: Record<string, string> = { "content-type": contentType };
    if (this.#auth) headers.authorization = this.#auth;
    if (gzipped) headers["content-encoding"] = "gzip";
    if (this.opts.compression) headers["accept-encoding"] = "gzip";
    let answer: { status: number; text: string; codeHeader: string | undefined };
    // A read or DDL statement is sent once more when a kept-alive connection turns out to have been
    // closed by the server in the meantime; an insert is not (the loader retries the whole batch,
    // whose key check then sees what the first attempt stored).
    for (let attempt = 1; ; attempt++) {
      try {
        answer = await this.#attempt(params, body, headers, timeoutMs);
        break;
      } catch (err) {
        if (err instanceof WarehouseError) throw err; // the answer itself was refused (too large)
        if (attempt === 1 && options.kind !== "insert" && isStaleSocket(err)) continue;
        throw new WarehouseError(
          "warehouse_unavailable",
          `ClickHouse at ${this.opts.label} unreachable: ${describeNetworkError(err, timeoutMs)}`,
          { cause: err },
        );
      }
    }
    const { status, text, codeHeader } = answer;
    if (status >= 200 && status < 300) return text;
    const code = exceptionCode(text, codeHeader);
    const kindOfError = classifyFailure(options.kind, status, code);
    const detail = text.trim().split("\n")[0]!.slice(0, 500) || `HTTP ${status}`;
    throw new WarehouseError(kindOfError, `ClickHouse at ${this.opts.label} answered ${status}: ${detail}`);
  }

  async #attempt(
    params: URLSearchParams,
    body: Buffer,
    headers: Record<string, string>,
    timeoutMs: number,
  ): Promise<{ status: number; text: string; codeHeader: string | undefined }> {
    const res = await this.#pool.request({
      method: "POST",
      path: `/?${params.toString()}`,
      headers,
      body,
      signal: AbortSignal.timeout(timeoutMs),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const maxBytes = this.opts.maxAnswerBytes ?? DEFAULT_MAX_ANSWER_BYTES;
    let raw = await this.#readCapped(res.body, maxBytes);
    if (String(res.headers["content-encoding"] ?? "").toLowerCase() === "gzip" && raw.length > 0) {
      try {
        raw = await gunzipAsync(raw, { maxOutputLength: maxBytes });
      } catch (err) {
        if ((err as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") throw this.#tooLarge(maxBytes, err);
        throw err;
      }
    }
    const header = res.headers["x-clickhouse-exception-code"];
    return {
      status: res.statusCode,
      text: raw.toString("utf8"),
      codeHeader: Array.isArray(header) ? header[0] : header,
    };
  }

  /** The body, read chunk by chunk; past `maxBytes` the rest is not read (the socket is dropped). */
  async #readCapped(body: Dispatcher.ResponseData["body"], maxBytes: number): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let length = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      length += chunk.length;
      if (length > maxBytes) {
        body.destroy();
        throw this.#tooLarge(maxBytes);
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks, length);
  }

  #tooLarge(maxBytes: number, cause?: unknown): WarehouseError {
    return new WarehouseError(
      "warehouse_unavailable",
      `ClickHouse at ${this.opts.label} answered more than ${maxBytes} bytes; the answer was not read`,
      { details: { limit: "answer_bytes", maxBytes }, ...(cause !== undefined ? { cause } : {}) },
    );
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }

  async destroy(): Promise<void> {
    await this.#pool.destroy();
  }
}

/** A value in TabSeparated's escaping. */
function tsvEscape(value: string): string {
  return value.replace(/[\\\t\n\r\0]/g, (c) =>
    c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : c === "\r" ? "\\r" : "\\0",
  );
}

function stringify(settings: Record<string, string | number>): Record<string, string> {
  return Object.fromEntries(Object.entries(settings).map(([k, v]) => [k, String(v)]));
}

function isStaleSocket(err: unknown): boolean {
  const code = (err as { code?: string })?.code;
  return code === "UND_ERR_SOCKET" || code === "ECONNRESET" || code === "EPIPE";
}

function describeNetworkError(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string } };
  if (e?.name === "TimeoutError" || e?.name === "AbortError" || /Timeout/.test(e?.code ?? ""))
    return `no answer within ${timeoutMs} ms (${e.code ?? e.name})`;
  const code = e?.code ?? e?.cause?.code;
  return code ? `${code}: ${e?.message ?? ""}` : String(e?.message ?? err);
}
