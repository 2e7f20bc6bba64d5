// k6's `check` and `fail` under Node: checks are counted for the test to assert on.
export const checks = { passed: 0, failed: 0 };

export function check<T>(value: T, sets: Record<string, (v: T) => boolean>): boolean {
  let ok = true;
  for (const fn of Object.values(sets)) {
    if (fn(value)) checks.passed++;
    else {
      checks.failed++;
      ok = false;
    }
  }
  return ok;
}

export class K6Fail extends Error {
  override name = "K6Fail";
}

export function fail(reason?: string): never {
  throw new K6Fail(reason);
}

export default { check, fail };
