import { packageTestConfig } from "../../vitest.shared.js";

export default packageTestConfig({ testTimeoutMs: 180_000 });
