import { describe, expect, it } from "vitest";
import { checkErrorDoc } from "@tributary/errors";
import { AGGREGATOR_API_ERRORS } from "../src/app.js";

describe("error catalogue", () => {
  it("errors - README.md shows the aggregator API's catalogue as it is", () => {
    const readme = new URL("../README.md", import.meta.url);
    const { expected, actual } = checkErrorDoc(readme, "aggregator-api", AGGREGATOR_API_ERRORS);
    expect(actual).toBe(expected);
  });
});
