export { LICENCE_CHECK_ERRORS, LicenceCheckError } from "./errors.js";
export type { LicenceCheckErrorCode } from "./errors.js";
export { ALLOWED_LICENCES, licenceViolations } from "./policy.js";
export type { Dependency, Violation, ViolationReason } from "./policy.js";
export { parsePnpmLicences, runPnpm, runtimeDependencies, workspacePackages } from "./pnpm.js";
export type { WorkspacePackage } from "./pnpm.js";
export { renderViolations } from "./report.js";
