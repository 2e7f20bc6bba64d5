import { defineErrors } from "@tributary/errors";

/** What can stop the check from judging at all (a licence it judges is a Violation, not an error). */
export const LICENCE_CHECK_ERRORS = {
  licence_list_failed: {
    meaning: "pnpm could not list the installed dependencies and their licences.",
    fix: "Install the workspace first (bash scripts/pnpm.sh install) and run the check from a clone of the repository.",
  },
} as const;
export type LicenceCheckErrorCode = keyof typeof LICENCE_CHECK_ERRORS;

export class LicenceCheckError extends defineErrors("LicenceCheckError", LICENCE_CHECK_ERRORS) {}
