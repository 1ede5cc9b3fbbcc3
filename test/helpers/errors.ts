import { CapanodeError } from '../../common/errors.js';

/** Runs fn and returns the CapanodeError it throws; fails the test if it throws nothing or something else. */
export function thrown(fn: () => unknown): CapanodeError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CapanodeError) return e;
    throw new Error(`expected a CapanodeError, got ${String(e)}`);
  }
  throw new Error('expected a CapanodeError, nothing was thrown');
}

/** Awaits p and returns the CapanodeError it rejects with; fails the test if it resolves or rejects with something else. */
export async function rejection(p: Promise<unknown>): Promise<CapanodeError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof CapanodeError) return e;
    throw new Error(`expected a CapanodeError, got ${String(e)}`);
  }
  throw new Error('expected a CapanodeError, the promise resolved');
}
