import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import type { GatewayCounters } from "./counters.js";
import { GATEWAY_ERRORS, GatewayError, type GatewayErrorCode } from "./errors.js";

/**
 * Refusals made below the routes, in the gateway's own shape (`{ error: { code, message } }`, a
 * catalogued code, counted like every other refusal): by Node's HTTP parser (malformed request
 * line, headers or framing: 400 bad_request; headers over Node's 16 KiB: 431 headers_too_large),
 * by the server's timeouts (408 request_timeout), by Fastify's router (a URL that does not
 * percent-decode: 400 bad_request; a path segment longer than any source id: 404 unknown_source),
 * and by Node itself (an HTTP/1.1 request without Host: 400 bad_request; an Expect other than
 * 100-continue: 417 expectation_failed). Left to their defaults, Fastify answers these with
 * `{"error":"Bad Request","message":"Client Error"}` and Node with empty bodies: no code a sender
 * or its tooling could act on. Messages are fixed text: nothing of the request is echoed.
 */

function answer(code: GatewayErrorCode, message: string): { status: number; body: string } {
  return { status: GATEWAY_ERRORS[code].status, body: JSON.stringify({ error: { code, message } }) };
}

/** What Node's parser or timeouts refused, as the gateway's code and a fixed message. */
function clientRefusal(err: NodeJS.ErrnoException): [GatewayErrorCode, string] {
  if (err.code === "ERR_HTTP_REQUEST_TIMEOUT")
    return ["request_timeout", "the request did not arrive within the server's timeout"];
  if (err.code === "HPE_HEADER_OVERFLOW")
    return ["headers_too_large", "the request line and headers are larger than the server takes"];
  return ["bad_request", "the request is not valid HTTP/1.1"];
}

/**
 * The request each socket last had refused before its body was all in: Node reads the rest of
 * that body and discards it, so that the connection can carry the next request. A parse error, a
 * hang-up or a timeout while it does so (the request not yet `complete`) ends a request that
 * already has its answer.
 */
const refusedEarly = new WeakMap<Socket, IncomingMessage>();

/** The errors plugin calls this for every refusal it sends. */
export function refusedBeforeBody(raw: IncomingMessage): void {
  if (!raw.complete) refusedEarly.set(raw.socket, raw);
}

/**
 * Fastify's `clientErrorHandler`: Node reports a request it could not parse, or that did not
 * arrive in time, on the socket. As Node's own handler does, nothing is written once an answer
 * has started on that socket; the connection is closed either way. Counted here, once: the route
 * that was reading the body then sees its connection reset and does not count it again.
 */
export function clientErrorHandler(counters: GatewayCounters) {
  return (err: NodeJS.ErrnoException, socket: Socket): void => {
    // A reset connection has no one to answer.
    if (err.code === "ECONNRESET" || socket.destroyed) return;
    // Its request has its answer already (refused before its body was read): just close.
    if (refusedEarly.get(socket)?.complete === false) {
      socket.destroy(err);
      return;
    }
    const [code, message] = clientRefusal(err);
    counters.refusal(code);
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (socket.writable && inFlight?.headersSent !== true) {
      const { status, body } = answer(code, message);
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\n` +
          `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy(err);
  };
}

/**
 * Fastify's `frameworkErrors`: the router's refusals, answered here (they never reach the error
 * handler, which a plugin sets after the router's context exists). Source ids are at most 32
 * characters, so a path segment over the router's 100 is no source.
 */
export function frameworkErrors(counters: GatewayCounters) {
  return (error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void => {
    const [code, message]: [GatewayErrorCode, string] =
      error.code === "FST_ERR_MAX_PARAM_LENGTH"
        ? ["unknown_source", "no source has an id this long"]
        : error.code === "FST_ERR_BAD_URL"
          ? ["bad_request", "the URL is not validly percent-encoded"]
          : ["bad_request", "the request cannot be routed"];
    counters.refusal(code);
    const { status, body } = answer(code, message);
    void reply.code(status).type("application/json; charset=utf-8").send(body);
  };
}

/**
 * HTTP/1.1 requires Host (RFC 9112 §3.2). Node refuses a request without it with an empty 400
 * unless told not to (`requireHostHeader: false`); this onRequest hook refuses it instead, with a code.
 */
export function requireHost(request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void): void {
  const { raw } = request;
  if (raw.httpVersionMajor === 1 && raw.httpVersionMinor === 1 && raw.headers.host === undefined)
    done(new GatewayError("bad_request", "an HTTP/1.1 request needs a Host header"));
  else done();
}

/**
 * An Expect other than 100-continue (which Node answers itself): 417 with a code. Node emits
 * `checkExpectation` to a listener instead of writing its own empty 417; the connection is
 * closed, as the body that may follow was not read.
 */
export function refuseUnmetExpectations(server: Server, counters: GatewayCounters): void {
  server.on("checkExpectation", (_request: IncomingMessage, response: ServerResponse) => {
    counters.refusal("expectation_failed");
    const { status, body } = answer("expectation_failed", "only Expect: 100-continue is supported");
    response.writeHead(status, {
      "content-type": "application/json; charset=utf-8",
      "content-length": Buffer.byteLength(body),
      connection: "close",
    });
    response.end(body);
  });
}
