import { describe, expect, it } from "vitest";
import { checkErrorDoc } from "@tributary/errors";
import { MANAGEMENT_ERRORS } from "../src/index.js";

const doc = new URL("../README.md", import.meta.url);

describe("error catalogue", () => {
  it("errors - the README shows the management API's catalogue as it is", () => {
    const { expected, actual } = checkErrorDoc(doc, "management", MANAGEMENT_ERRORS);
    expect(actual).toBe(expected);
  });
});
