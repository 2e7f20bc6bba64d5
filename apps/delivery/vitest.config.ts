import { packageTestConfig } from "../../vitest.shared.js";

export default packageTestConfig({ testTimeoutMs: 120_000 });
