import type { RequestHandler } from 'express';
import type { Logger } from '../../lib/logger';
import { sweepRateLimitBuckets } from '../../lib/rate-limit';
import { sweepExpiredSessions } from '../../lib/auth/session-store';
import type { Prisma, PrismaClient } from '../../prisma/generated/client';

/**
 * Writes one `api_request_logs` row per `/v1` request when its response is sent.
 * Summaries are built from an allow-list of harmless fields (names of fields,
 * model, size, counts, ids, status and error code) rather than by removing
 * secrets, so keys, passwords, tokens, signatures and prompts never reach the
 * table.
 */

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TASK_PATH_PATTERN = /^\/v1\/tasks\/([0-9a-f-]{36})(?:\/|$)/i;
const SAFE_TEXT_PATTERN = /^[A-Za-z0-9 ._:x-]{1,64}$/;
const SAFE_REQUEST_FIELDS = ['model', 'size', 'aspectRatio', 'imageCount'] as const;
const SWEEP_INTERVAL_MS = 3_600_000;

export interface RequestLogOptions {
  prisma: PrismaClient;
  logger: Logger;
  retentionMs: number;
}

export function requestLog(options: RequestLogOptions): RequestHandler {
  const { prisma, logger } = options;
  let lastSweepAt = 0;

  // Old rows and spent rate-limit windows are swept by the API itself, at most hourly.
  function sweepIfDue(): void {
    if (Date.now() - lastSweepAt < SWEEP_INTERVAL_MS) return;
    lastSweepAt = Date.now();
    const cutoff = new Date(Date.now() - options.retentionMs);
    void Promise.all([prisma.apiRequestLog.deleteMany({ where: { createdAt: { lt: cutoff } } }), sweepRateLimitBuckets(prisma), sweepExpiredSessions(prisma)]).catch(
      (error: unknown) => logger.warn({ err: error }, 'sweeping old request logs failed'),
    );
  }

  return (request, response, next) => {
    const startedAt = performance.now();
    let responseBody: unknown;
    const json = response.json.bind(response);
    response.json = (body: unknown) => {
      responseBody = body;
      return json(body);
    };

    response.on('finish', () => {
      const principal = request.principal;
      const path = request.originalUrl.split('?')[0]!.slice(0, 300);
      const data: Prisma.ApiRequestLogUncheckedCreateInput = {
        accountId: principal?.accountId ?? null,
        apiKeyId: principal?.apiKeyId ?? null,
        keyPrefix: principal?.keyPrefix ?? null,
        method: request.method,
        path,
        status: response.statusCode,
        durationMs: Math.round(performance.now() - startedAt),
        taskId: linkedTaskId(path, responseBody),
        ip: request.ip ?? null,
        userAgent: request.get('user-agent')?.slice(0, 300) ?? null,
        requestSummary: summarizeRequest(request.query, request.body, request.get('content-length')),
        responseSummary: summarizeResponse(responseBody),
      };
      void prisma.apiRequestLog
        .create({ data })
        .then(sweepIfDue)
        .catch((error: unknown) => logger.warn({ err: error }, 'writing the request log failed'));
    });
    next();
  };
}

function linkedTaskId(path: string, body: unknown): string | null {
  const fromPath = TASK_PATH_PATTERN.exec(path)?.[1];
  if (fromPath && UUID_PATTERN.test(fromPath)) return fromPath;
  const id = (body as { id?: unknown } | undefined)?.id;
  return /^\/v1\/tasks\/?$/.test(path) && typeof id === 'string' && UUID_PATTERN.test(id) ? id : null;
}

/** Summarizes a request as field names, the harmless task parameters and the body size, without values of other fields. */
export function summarizeRequest(query: unknown, body: unknown, contentLength: string | undefined): Prisma.InputJsonObject {
  const summary: Record<string, Prisma.InputJsonValue> = {};
  const queryFields = query && typeof query === 'object' ? Object.keys(query).filter((name) => SAFE_TEXT_PATTERN.test(name)) : [];
  if (queryFields.length > 0) summary.query = queryFields;
  if (contentLength && /^\d+$/.test(contentLength)) summary.bytes = Number(contentLength);

  if (body && typeof body === 'object' && !Buffer.isBuffer(body) && !Array.isArray(body)) {
    const record = body as Record<string, unknown>;
    summary.fields = Object.keys(record).filter((name) => SAFE_TEXT_PATTERN.test(name)).slice(0, 20);
    for (const field of SAFE_REQUEST_FIELDS) {
      const value = record[field];
      if (typeof value === 'number' && Number.isInteger(value)) summary[field] = value;
      if (typeof value === 'string' && SAFE_TEXT_PATTERN.test(value) && !value.startsWith('nva_')) summary[field] = value;
    }
  }
  return summary;
}

/** Summarizes a response body as its id, status and error code. */
export function summarizeResponse(body: unknown): Prisma.InputJsonObject {
  if (!body || typeof body !== 'object') return {};
  const record = body as { id?: unknown; status?: unknown; error?: { code?: unknown } };
  const summary: Record<string, string> = {};
  if (typeof record.id === 'string' && UUID_PATTERN.test(record.id)) summary.id = record.id;
  if (typeof record.status === 'string' && /^[a-z_]{1,20}$/.test(record.status)) summary.status = record.status;
  if (typeof record.error?.code === 'string' && /^[A-Z_]{1,40}$/.test(record.error.code)) summary.errorCode = record.error.code;
  return summary;
}
