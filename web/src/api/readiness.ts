import { ApiError, getJson } from './client';

export interface ReadinessCheck {
  ok: boolean;
  error?: string;
}

/** The body of `GET /readyz`, sent with HTTP 200 when ready and 503 when not. */
export interface ReadinessReport {
  status: 'ready' | 'not_ready';
  checks: Record<string, ReadinessCheck>;
}

export async function fetchReadiness(signal?: AbortSignal): Promise<ReadinessReport> {
  const body = await getJson('/readyz', { signal, acceptedStatuses: [503] });

  if (!isReadinessReport(body)) {
    throw new ApiError('UNEXPECTED_RESPONSE', 'GET /readyz returned a body without "status" and "checks"');
  }
  return body;
}

function isReadinessReport(body: unknown): body is ReadinessReport {
  if (typeof body !== 'object' || body === null) return false;

  const { status, checks } = body as Record<string, unknown>;
  if (status !== 'ready' && status !== 'not_ready') return false;
  if (typeof checks !== 'object' || checks === null) return false;

  return Object.values(checks).every((check) => typeof (check as ReadinessCheck | null)?.ok === 'boolean');
}
