/** One dependency that must be reachable before the service takes traffic. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

export interface ReadinessReport {
  status: 'ready' | 'not_ready';
  checks: Record<string, { ok: boolean; durationMs: number; error?: string }>;
}

/** Runs every check in parallel, each bounded by `timeoutMs`, and reports which ones failed. */
export async function checkReadiness(checks: ReadinessCheck[], timeoutMs = 3_000): Promise<ReadinessReport> {
  const entries = await Promise.all(
    checks.map(async ({ name, check }) => {
      const startedAt = performance.now();
      try {
        await withTimeout(check(), timeoutMs, `${name} did not answer within ${timeoutMs} ms`);
        return [name, { ok: true, durationMs: Math.round(performance.now() - startedAt) }] as const;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        return [name, { ok: false, durationMs: Math.round(performance.now() - startedAt), error: message }] as const;
      }
    }),
  );

  const allOk = entries.every(([, result]) => result.ok);
  return { status: allOk ? 'ready' : 'not_ready', checks: Object.fromEntries(entries) };
}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(message)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
