import path from 'node:path';
import { z } from 'zod';

/**
 * Runtime configuration, parsed once from environment variables at start.
 *
 * Every key carries a description; `scripts/config-docs.ts` renders them with
 * their defaults into docs/configuration.md, and a test keeps that page current.
 */

const DURATION_UNITS_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** Parses a duration such as `500ms`, `30s`, `10m`, `24h` or `2d` into milliseconds. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) return undefined;

  return Number(match[1]) * DURATION_UNITS_MS[match[2]!]!;
}

const duration = (defaultValue: string) =>
  z
    .string()
    .default(defaultValue)
    .transform((text, context) => {
      const milliseconds = parseDuration(text);
      if (milliseconds === undefined || milliseconds <= 0) {
        context.addIssue({
          code: 'custom',
          message: `invalid duration "${text}": use a positive whole number with a unit (ms, s, m, h, d), for example 24h`,
        });
        return z.NEVER;
      }
      return milliseconds;
    });

const port = (defaultValue: number) => z.coerce.number().int().min(1).max(65_535).default(defaultValue);

const flag = (defaultValue: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(defaultValue ? 'true' : 'false')
    .transform((text) => text === 'true' || text === '1' || text === 'yes');

const optionalText = z
  .string()
  .optional()
  .transform((text) => (text === undefined || text.trim() === '' ? undefined : text.trim()));

const optionalUrl = optionalText.refine((text) => text === undefined || URL.canParse(text), 'invalid URL');

const cidrList = z
  .string()
  .default('')
  .transform((text) => text.split(',').map((part) => part.trim()).filter((part) => part !== ''));

export const configSchema = z.object({
  NODE_ENV: z
    .enum(['development', 'production', 'test'])
    .default('development')
    .describe('Runtime mode. `production` requires SESSION_SECRET and an explicit PUBLIC_URL.'),
  PORT: port(3000).describe('HTTP port of the API and the Studio.'),
  HOST: z.string().default('127.0.0.1').describe('Interface the HTTP server listens on; `0.0.0.0` in containers.'),
  PUBLIC_URL: optionalUrl.describe(
    'Public base URL of the Studio and API, used in e-mails and links. Default: `http://localhost:$PORT`.',
  ),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('Minimum level of log lines written to standard output (pino levels).'),
  DATA_DIR: z
    .string()
    .default('data')
    .transform((text) => path.resolve(text))
    .describe('Folder for everything the embedded setup keeps: embedded database, Temporal data, objects, e-mails.'),

  DATABASE_URL: optionalUrl.describe(
    'PostgreSQL connection URL. When unset, an embedded PostgreSQL (PGlite) stores its data in `$DATA_DIR/pglite`.',
  ),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10).describe('Maximum PostgreSQL connections per process.'),

  TEMPORAL_ADDRESS: optionalText.describe(
    'Temporal frontend `host:port`. When unset, `npm start` runs a Temporal dev server on TEMPORAL_DEV_PORT.',
  ),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default').describe('Temporal namespace of all workflows.'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('novart-tasks').describe('Task queue the workers poll.'),
  TEMPORAL_UI_URL: optionalUrl.describe(
    'Base URL of the Temporal UI, for links from tasks to their workflows. Default in the embedded setup: `http://localhost:$TEMPORAL_UI_PORT`.',
  ),
  TEMPORAL_DEV_PORT: port(7233).describe('Frontend port of the embedded Temporal dev server.'),
  TEMPORAL_UI_PORT: port(8233).describe('Web UI port of the embedded Temporal dev server.'),
  TEMPORAL_CLI_PATH: optionalText.describe(
    'Path of the `temporal` CLI binary. When unset: `temporal` on PATH, then the project cache, then a build or download.',
  ),
  TEMPORAL_TEST_SERVER_PATH: optionalText.describe(
    'Path of an executable that starts the time-skipping test server (tests only). When unset it is provisioned.',
  ),
  CACHE_DIR: z
    .string()
    .optional()
    .transform((text) => (text ? path.resolve(text) : undefined))
    .describe('Folder for provisioned tools (Temporal CLI, test servers). Default: `$XDG_CACHE_HOME/novart-studio` or `~/.cache/novart-studio`.'),

  STORAGE_DRIVER: z.enum(['local', 's3']).default('local').describe('Object storage: `local` disk under STORAGE_LOCAL_DIR, or any S3-compatible service.'),
  STORAGE_LOCAL_DIR: optionalText.describe('Folder of the local storage driver. Default: `$DATA_DIR/objects`.'),
  S3_ENDPOINT: optionalUrl.describe('S3 endpoint URL; unset for AWS S3 itself.'),
  S3_REGION: z.string().default('us-east-1').describe('S3 region.'),
  S3_BUCKET: optionalText.describe('S3 bucket for results, previews and uploads. Required with `STORAGE_DRIVER=s3`.'),
  S3_ACCESS_KEY_ID: optionalText.describe('S3 access key id. Unset: the AWS SDK default credential chain.'),
  S3_SECRET_ACCESS_KEY: optionalText.describe('S3 secret access key.'),
  S3_FORCE_PATH_STYLE: flag(true).describe('Address buckets by path (`endpoint/bucket/key`), as most self-hosted S3 servers need.'),
  DOWNLOAD_URL_TTL: duration('5m').describe('Lifetime of a presigned download link.'),

  RESULT_RETENTION: duration('2d').describe('How long generated images and previews are kept before deletion.'),
  REFERENCE_RETENTION: duration('24h').describe('How long uploaded reference images are kept before deletion.'),
  EXPORT_RETENTION: duration('7d').describe('How long a data export archive can be downloaded before it is deleted.'),
  TASK_DEADLINE: duration('15m').describe('A task whose upstream has not produced images by then fails and is refunded.'),
  UPSTREAM_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(4).describe('Attempts per provider for transient upstream errors.'),
  UPSTREAM_INITIAL_BACKOFF: duration('2s').describe('First retry delay after a transient upstream error; doubles each attempt.'),
  PROVIDERS_FILE: optionalText.describe(
    'JSON file with upstream providers, model routing and prices. Unset: the built-in renderer serves every model.',
  ),

  WEBHOOK_TIMEOUT: duration('10s').describe('Hard timeout of one webhook delivery attempt.'),
  WEBHOOK_RETRY_WINDOW: duration('25h').describe('How long failed webhook deliveries are retried, with exponential backoff.'),
  WEBHOOK_ALLOWED_CIDRS: cidrList.describe(
    'Comma-separated CIDR ranges that webhooks may target although private (for example `10.20.0.0/16`). Empty: only public addresses.',
  ),

  LOW_BALANCE_THRESHOLD: z.coerce
    .number()
    .int()
    .min(0)
    .default(50)
    .describe('Credits (balance plus bonus) below which a debit sends the owner one low-balance message; 0 turns the message off.'),
  REDEMPTION_MAX_FAILURES: z.coerce
    .number()
    .int()
    .min(1)
    .default(10)
    .describe('Wrong redemption codes an account, or an IP address, may enter per REDEMPTION_FAILURE_WINDOW before redeeming is refused.'),
  REDEMPTION_FAILURE_WINDOW: duration('15m').describe('Window over which wrong redemption codes are counted.'),
  REFERRAL_INVITER_REWARD: z.coerce
    .number()
    .int()
    .min(0)
    .default(100)
    .describe("Bonus credits an inviter receives once per invitee, on the invitee's first paid recharge or redemption."),
  REFERRAL_WELCOME_BONUS: z.coerce.number().int().min(0).default(0).describe('Bonus credits a new account receives when it signs up with an invite code.'),
  RECONCILIATION_CRON: z
    .string()
    .default('0 3 * * *')
    .describe('Cron expression (UTC) of the wallet and ledger reconciliation run by a Temporal Schedule; `off` disables the schedule.'),

  SESSION_SECRET: optionalText.describe(
    'Secret that signs session cookies; at least 32 characters. Required in production; the embedded setup generates one in `$DATA_DIR`.',
  ),
  SMTP_URL: optionalUrl.describe('SMTP server URL (`smtp://user:pass@host:587`). Unset: e-mails are written to `$DATA_DIR/mail` and logged.'),
  MAIL_FROM: z.string().default('Novart Studio <no-reply@localhost>').describe('Sender address of e-mails.'),
  SESSION_TTL: duration('14d').describe('How long a Studio session lasts without activity before the user must sign in again.'),
  AUTH_WINDOW: duration('15m').describe('Window of the sign-in, sign-up, reset and verification rate limits, and the length of a sign-in lockout.'),
  AUTH_MAX_REQUESTS_PER_IP: z.coerce.number().int().min(1).default(30).describe('Requests per client IP to each account endpoint (sign-in, sign-up, reset, verification) within AUTH_WINDOW.'),
  AUTH_MAX_REQUESTS_PER_EMAIL: z.coerce.number().int().min(1).default(5).describe('Sign-up, reset and verification e-mails per address within AUTH_WINDOW.'),
  SIGN_IN_MAX_FAILURES: z.coerce.number().int().min(1).default(5).describe('Failed sign-ins per e-mail address within AUTH_WINDOW; the next attempt is refused until the window ends.'),
  API_REQUEST_LOG_RETENTION: duration('90d').describe('How long the per-request log of `/v1` calls is kept for the developer center.'),
  WEBHOOK_SECRET_GRACE: duration('24h').describe('After a webhook secret rotation, how long deliveries are also signed with the previous secret.'),
});

export type Config = z.output<typeof configSchema> & {
  publicUrl: string;
  storageLocalDir: string;
  cacheDir: string;
};

/** Raised when an environment variable is missing or invalid; the message names each variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses and validates configuration from `env`, throwing a ConfigError that names every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const known = Object.fromEntries(Object.keys(configSchema.shape).map((key) => [key, emptyToUndefined(env[key])]));
  const result = configSchema.safeParse(known);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }

  const parsed = result.data;
  const problems: string[] = [];
  if (parsed.NODE_ENV === 'production' && !parsed.SESSION_SECRET) {
    problems.push('SESSION_SECRET: required when NODE_ENV=production');
  }
  if (parsed.SESSION_SECRET && parsed.SESSION_SECRET.length < 32) {
    problems.push('SESSION_SECRET: must be at least 32 characters');
  }
  if (parsed.NODE_ENV === 'production' && !parsed.PUBLIC_URL) {
    problems.push('PUBLIC_URL: required when NODE_ENV=production');
  }
  if (parsed.STORAGE_DRIVER === 's3' && !parsed.S3_BUCKET) {
    problems.push('S3_BUCKET: required when STORAGE_DRIVER=s3');
  }
  if (Boolean(parsed.S3_ACCESS_KEY_ID) !== Boolean(parsed.S3_SECRET_ACCESS_KEY)) {
    problems.push('S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY: set both or neither');
  }
  if (parsed.WEBHOOK_RETRY_WINDOW < 86_400_000) {
    problems.push('WEBHOOK_RETRY_WINDOW: must be at least 24h, because receivers rely on a day of retries');
  }
  for (const cidr of parsed.WEBHOOK_ALLOWED_CIDRS) {
    if (!isCidr(cidr)) problems.push(`WEBHOOK_ALLOWED_CIDRS: invalid CIDR range "${cidr}"`);
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    ...parsed,
    publicUrl: (parsed.PUBLIC_URL ?? `http://localhost:${parsed.PORT}`).replace(/\/+$/, ''),
    storageLocalDir: path.resolve(parsed.STORAGE_LOCAL_DIR ?? path.join(parsed.DATA_DIR, 'objects')),
    cacheDir: parsed.CACHE_DIR ?? defaultCacheDir(env),
  };
}

function emptyToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

function defaultCacheDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CACHE_HOME || path.join(env.HOME || env.USERPROFILE || '.', '.cache');
  return path.resolve(base, 'novart-studio');
}

function isCidr(text: string): boolean {
  const [address, bits, ...rest] = text.split('/');
  if (!address || bits === undefined || rest.length > 0 || !/^\d{1,3}$/.test(bits)) return false;
  const isV4 = /^\d{1,3}(\.\d{1,3}){3}$/.test(address) && address.split('.').every((octet) => Number(octet) <= 255);
  const isV6 = address.includes(':') && /^[0-9a-fA-F:.]+$/.test(address);
  return (isV4 && Number(bits) <= 32) || (isV6 && Number(bits) <= 128);
}

/** Lists the configuration keys with their descriptions and defaults, for generated documentation. */
export function describeConfig(): Array<{ key: string; description: string; defaultValue: string | undefined }> {
  return Object.entries(configSchema.shape).map(([key, schema]) => {
    const field = schema as z.ZodType;
    const defaultValue = readDefault(field);
    return { key, description: field.description ?? '', defaultValue };
  });
}

function readDefault(field: z.ZodType): string | undefined {
  const probe = z.object({ value: field }).safeParse({});
  if (!probe.success || probe.data.value === undefined) return undefined;

  // Transformed defaults (durations, flags, paths) are documented as their input text.
  const definition = (field as unknown as { def: { in?: z.ZodType; innerType?: z.ZodType; defaultValue?: unknown } }).def;
  const source = definition.in ?? field;
  const sourceDefinition = (source as unknown as { def: { defaultValue?: unknown } }).def;
  const value = sourceDefinition.defaultValue ?? definition.defaultValue ?? probe.data.value;
  return Array.isArray(value) ? value.join(',') : String(value);
}
