import { packageTestConfig } from "../../vitest.shared.js";

// --expose-gc: the backlog test measures the heap the loader retains, not garbage awaiting collection.
export default packageTestConfig({ execArgv: ["--expose-gc"] });
