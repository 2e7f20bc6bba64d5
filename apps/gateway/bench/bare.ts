/**
 * The ceiling: bare Fastify answering 202 to the same request the gateway gets (default settings,
 * default JSON body parser, no verification, no NATS). Started by bench.ts as its own process.
 */
import Fastify from "fastify";

const port = Number(process.env.BARE_PORT ?? 0);
const app = Fastify({ logger: false });
app.post("/v1/sources/:sourceId/events", async (_request, reply) => reply.code(202).send({ status: "accepted" }));
app.get("/readyz", async () => ({ status: "ready" }));
await app.listen({ host: "127.0.0.1", port });
process.once("SIGTERM", () => void app.close());
