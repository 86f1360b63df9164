/**
 * Waits until `condition` holds, checking every few ms, and fails with
 * `what` after `timeoutMs`: for effects that happen on other connections or
 * processes, without fixed sleeps and without asserting on timing.
 */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
