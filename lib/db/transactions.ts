import { setTimeout as sleep } from 'node:timers/promises';

import { appError } from '../errors';
import { Prisma, type PrismaClient } from '../../prisma/generated/client';

/** A transaction client: the Prisma client without connection and transaction control. */
export type TransactionClient = Prisma.TransactionClient;

export interface SerializableRetryOptions {
  /** Attempts in total, the first included. Default 5. */
  maxAttempts?: number;
  /** Upper bound of the first backoff, doubled per attempt. Default 20 ms. */
  baseDelayMs?: number;
  /** Upper bound of any backoff. Default 1 s. */
  maxDelayMs?: number;
}

/**
 * Runs `fn` in a SERIALIZABLE transaction and runs it again, after a jittered
 * backoff, when PostgreSQL aborts it for a serialization failure or deadlock.
 * `fn` must therefore have no effects outside the database. When every attempt
 * conflicts it throws a CONFLICT AppError.
 */
export async function withSerializableRetry<T>(
  prisma: PrismaClient,
  fn: (tx: TransactionClient) => Promise<T>,
  options: SerializableRetryOptions = {},
): Promise<T> {
  const maxAttempts = options.maxAttempts ?? 5;
  const baseDelayMs = options.baseDelayMs ?? 20;
  const maxDelayMs = options.maxDelayMs ?? 1_000;

  for (let attempt = 1; ; attempt += 1) {
    try {
      return await prisma.$transaction(fn, { isolationLevel: Prisma.TransactionIsolationLevel.Serializable });
    } catch (error) {
      if (!isSerializationFailure(error)) throw error;
      if (attempt >= maxAttempts) {
        throw appError('CONFLICT', 'The change conflicted with concurrent changes; try again', { attempts: attempt });
      }

      // Full jitter: transactions that collided once should not collide again in lockstep.
      const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
      await sleep(Math.random() * ceiling);
    }
  }
}

/** SQLSTATEs after which PostgreSQL expects the whole transaction to be retried. */
const RETRYABLE_SQLSTATES = new Set(['40001', '40P01']);

/**
 * True for a serialization failure or deadlock, in both shapes Prisma uses:
 * a P2034 request error, or a bare DriverAdapterError (for example at COMMIT).
 */
export function isSerializationFailure(error: unknown): boolean {
  if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2034') return true;

  const code = adapterCause(error)?.originalCode;
  return typeof code === 'string' && RETRYABLE_SQLSTATES.has(code);
}

/**
 * True when `error` is a unique violation, of `constraint` if given. The name
 * is the SQL one, for example `accounts_email_key` or `tasks_account_id_idempotency_key_key`.
 */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  return isConstraintViolation(error, '23505', constraint);
}

/** True when `error` is a CHECK violation, of `constraint` if given (for example `wallets_balance_non_negative`). */
export function isCheckViolation(error: unknown, constraint?: string): boolean {
  return isConstraintViolation(error, '23514', constraint);
}

interface AdapterCause {
  originalCode?: unknown;
  originalMessage?: unknown;
  constraint?: { index?: unknown };
}

function isConstraintViolation(error: unknown, sqlState: string, constraint: string | undefined): boolean {
  const cause = adapterCause(error);
  if (cause?.originalCode !== sqlState) return false;
  if (constraint === undefined) return true;

  // The pg adapter reports the index name, but the PGlite adapter reports only columns, so the message is read too.
  if (cause.constraint?.index === constraint) return true;
  const quoted = typeof cause.originalMessage === 'string' ? /constraint "([^"]+)"/.exec(cause.originalMessage)?.[1] : undefined;
  return quoted === constraint;
}

/** Returns the driver error behind a Prisma request error or a bare DriverAdapterError. */
function adapterCause(error: unknown): AdapterCause | undefined {
  if (error instanceof Prisma.PrismaClientKnownRequestError) {
    const meta = error.meta as { driverAdapterError?: { cause?: AdapterCause } } | undefined;
    return meta?.driverAdapterError?.cause;
  }
  if (error instanceof Error && error.name === 'DriverAdapterError') {
    return (error as Error & { cause?: AdapterCause }).cause;
  }
  return undefined;
}
