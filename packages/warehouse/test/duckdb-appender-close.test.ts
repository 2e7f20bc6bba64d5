import { DuckDBInstance } from "@duckdb/node-api";
import { describe, expect, it } from "vitest";
import { closeQuietly } from "../src/duckdb-appender-close.js";

describe("closeQuietly", () => {
  it("an append refused for a known key leaves nothing behind to abort the connection's next transaction", async () => {
    const db = await DuckDBInstance.create(":memory:");
    const connection = await db.connect();
    try {
      await connection.run("CREATE TABLE t (k VARCHAR PRIMARY KEY)");
      await connection.run("INSERT INTO t VALUES ('known')");
      await connection.run("BEGIN TRANSACTION");
      const appender = await connection.createAppender("t");
      appender.appendVarchar("known");
      appender.endRow();
      expect(() => appender.flushSync()).toThrow(/Duplicate key/);
      closeQuietly(appender);
      await connection.run("ROLLBACK");

      await connection.run("BEGIN TRANSACTION");
      await connection.run("INSERT INTO t VALUES ('next')");
      // What the garbage collector's destruction of the appender would do now: with its rows
      // still held, this flush failed again inside this transaction and aborted it.
      expect(() => appender.closeSync()).not.toThrow();
      await connection.run("INSERT INTO t VALUES ('after')");
      await connection.run("COMMIT");
      const keys = (await connection.runAndReadAll("SELECT k FROM t ORDER BY k")).getRowObjectsJS().map((r) => r.k);
      expect(keys).toEqual(["after", "known", "next"]);
    } finally {
      connection.closeSync();
    }
  });
});
