import { describe, expect, it } from "vitest";
import { Fifo } from "../src/fifo.js";

describe("Fifo", () => {
  it("order - items leave in the order they came, across compactions", () => {
    const fifo = new Fifo<number>();
    let next = 0;
    for (let i = 0; i < 10_000; i++) {
      fifo.push(i);
      if (i % 3 !== 0) expect(fifo.shift()).toBe(next++);
    }
    while (fifo.size > 0) expect(fifo.shift()).toBe(next++);
    expect(next).toBe(10_000);
    expect(fifo.shift()).toBeUndefined();
    expect(fifo.peek()).toBeUndefined();
  });

  it("performance - a million pushes and shifts at a steady size run in linear time", () => {
    const fifo = new Fifo<string>();
    for (let i = 0; i < 100_000; i++) fifo.push(`k${i}`);
    const started = performance.now();
    for (let i = 0; i < 1_000_000; i++) {
      fifo.push(`k${i}`);
      fifo.shift();
    }
    expect(fifo.size).toBe(100_000);
    expect(performance.now() - started).toBeLessThan(5_000); // quadratic would take minutes
  });
});
