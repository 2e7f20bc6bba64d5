import { describe, expect, it } from "vitest";
import { checkErrorDoc } from "@tributary/errors";
import { PUBLISH_ERRORS } from "../src/index.js";

describe("error catalogue", () => {
  it("errors - docs/errors.md shows the publish catalogue as it is", () => {
    const { expected, actual } = checkErrorDoc(
      new URL("../../../docs/errors.md", import.meta.url),
      "publish",
      PUBLISH_ERRORS,
    );
    expect(actual).toBe(expected);
  });
});
