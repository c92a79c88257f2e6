import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../errors';

/**
 * An exclusive lock on the embedded database folder, held as a file with the
 * owner's pid. PGlite does no locking of its own, and a second process
 * opening the same folder corrupts its tables and indexes.
 */
export interface DataDirLock {
  release(): void;
}

/** Locks `dataDir` through the file `<dataDir>.lock` beside it, so the database folder itself stays untouched. */
export function acquireDataDirLock(dataDir: string): DataDirLock {
  const lockFile = `${dataDir}.lock`;
  fs.mkdirSync(path.dirname(lockFile), { recursive: true });

  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      fs.writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      return { release: () => releaseLock(lockFile) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }

    const ownerPid = Number(fs.readFileSync(lockFile, 'utf8').trim());
    if (Number.isInteger(ownerPid) && ownerPid > 0 && ownerPid !== process.pid && isRunning(ownerPid)) {
      throw new AppError(
        'SERVICE_UNAVAILABLE',
        `The embedded database in ${dataDir} is in use by process ${ownerPid} (probably npm start). Stop that process first, or set DATABASE_URL to use PostgreSQL, which allows several processes.`,
      );
    }
    // The owner is gone (a crash or SIGKILL): the lock is stale.
    fs.rmSync(lockFile, { force: true });
  }
  throw new AppError('SERVICE_UNAVAILABLE', `Could not lock the embedded database in ${dataDir}`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function releaseLock(lockFile: string): void {
  try {
    if (fs.readFileSync(lockFile, 'utf8').trim() === String(process.pid)) fs.rmSync(lockFile, { force: true });
  } catch {
    // Already gone.
  }
}
