// A fast local destination for the delivery benchmark, in its own process so the deliverer's
// process is measured alone: POST /hook → 204, counting requests. Prints its URL on stdout.
import Fastify from "fastify";

const app = Fastify({ logger: false, keepAliveTimeout: 60_000 });
let count = 0;
app.addContentTypeParser("application/json", { parseAs: "buffer" }, (_req, body, done) => done(null, body));
app.post("/hook", async (_request, reply) => {
  count++;
  return reply.code(204).send();
});
app.get("/count", async () => ({ count }));
const address = await app.listen({ host: "127.0.0.1", port: 0 });
console.log(address);
process.on("SIGTERM", () => void app.close().then(() => process.exit(0)));
