export { DEFAULT_HELM_PATH, ensureHelm, helm, HELM_PACKAGE, HelmError, REPO_ROOT } from "./helm.js";
export type { HelmResult } from "./helm.js";
