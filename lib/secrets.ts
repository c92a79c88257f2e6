import { createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from './config';

/** Secrets the processes share: the session-cookie secret and the key of local download links. */
export interface Secrets {
  sessionSecret: string;
  storageSigningSecret: string;
}

/**
 * Takes SESSION_SECRET when configured; otherwise (the embedded setup) reads or
 * creates `$DATA_DIR/secrets.json`, readable by the owner only, so that links
 * and sessions survive a restart. Other keys are derived from the one secret.
 */
export function resolveSecrets(config: Pick<Config, 'SESSION_SECRET' | 'DATA_DIR'>): Secrets {
  const sessionSecret = config.SESSION_SECRET ?? readOrCreateLocalSecret(path.join(config.DATA_DIR, 'secrets.json'));
  return {
    sessionSecret,
    storageSigningSecret: createHmac('sha256', sessionSecret).update('novart:storage-links').digest('base64url'),
  };
}

function readOrCreateLocalSecret(file: string): string {
  try {
    const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as { sessionSecret?: unknown };
    if (typeof stored.sessionSecret === 'string' && stored.sessionSecret.length >= 32) return stored.sessionSecret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`Cannot read ${file}: ${(error as Error).message}`);
  }

  const sessionSecret = randomBytes(32).toString('base64url');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ sessionSecret }, null, 2), { mode: 0o600 });
  return sessionSecret;
}
