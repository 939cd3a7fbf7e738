/** Polling instead of sleeping: tests wait for the condition itself, bounded by a timeout. */

export interface WaitForOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

/**
 * Calls `fn` until it returns a truthy value (which is returned) or the time runs out. A throw counts
 * as "not yet", so assertions can be polled; the last error is in the timeout message.
 */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  { timeoutMs = 5000, intervalMs = 25 }: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value as NonNullable<T>;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const reason = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`waitFor: condition not met within ${timeoutMs} ms${reason}`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
