/**
 * Poll until `check` holds (it may be async), or fail after `ms` naming `what`. Tests wait for a state
 * with a generous limit, never for a fixed time, and never without a limit.
 */
export async function waitFor(check: () => boolean | Promise<boolean>, ms = 5000, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
