import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describeConfig } from '../../lib/config';
import {
  COMPOSE_VARIABLES,
  CONFIGURATION_DOC_PATH,
  ENV_EXAMPLE_PATH,
  findStaleFiles,
  renderConfigurationDoc,
  renderEnvExample,
} from '../../scripts/config-docs';

const run = promisify(execFile);
const rootDir = path.resolve(__dirname, '../..');
const tsxBin = path.join(rootDir, 'node_modules/.bin/tsx');
const generator = path.join(rootDir, 'scripts/config-docs.ts');

describe('config docs', () => {
  test('generated files are current', async () => {
    const stale = await findStaleFiles(rootDir);

    expect(stale).toEqual([]);
  });

  test('configuration page has a row per variable', () => {
    const page = renderConfigurationDoc();

    for (const entry of describeConfig()) {
      expect(page).toContain(`| \`${entry.key}\` |`);
    }
  });

  test('configuration page shows defaults', () => {
    const page = renderConfigurationDoc();

    expect(page).toContain('| `PORT` | `3000` |');
    expect(page).toContain('| `RESULT_RETENTION` | `2d` |');
    expect(page).toContain('| `DATABASE_URL` | (unset) |');
    expect(page).toContain('| `WEBHOOK_ALLOWED_CIDRS` | (empty) |');
  });

  test('configuration page explains validation', () => {
    const page = renderConfigurationDoc();

    expect(page).toContain('validated when a process');
    expect(page).toContain('names the variable');
  });

  test('env example lists every variable commented', () => {
    const example = renderEnvExample();

    for (const entry of describeConfig()) {
      expect(example).toMatch(new RegExp(`^# ${entry.key}=`, 'm'));
    }
    for (const variable of COMPOSE_VARIABLES) {
      expect(example).toMatch(new RegExp(`^# ${variable.key}=`, 'm'));
    }
    expect(example).not.toMatch(/^[A-Z_]+=/m);
  });

  test('env example shows defaults', () => {
    const example = renderEnvExample();

    expect(example).toContain('# PORT=3000\n');
    expect(example).toContain('# WEBHOOK_RETRY_WINDOW=25h\n');
    expect(example).toContain('# MAIL_FROM="Novart Studio <no-reply@localhost>"\n');
  });

  describe('check mode', () => {
    let workDir: string;

    beforeEach(async () => {
      workDir = await mkdtemp(path.join(os.tmpdir(), 'config-docs-'));
      await mkdir(path.join(workDir, 'docs'));
      await cp(path.join(rootDir, CONFIGURATION_DOC_PATH), path.join(workDir, CONFIGURATION_DOC_PATH));
      await cp(path.join(rootDir, ENV_EXAMPLE_PATH), path.join(workDir, ENV_EXAMPLE_PATH));
    });

    afterEach(async () => {
      await rm(workDir, { recursive: true, force: true });
    });

    test('exits 0 when files are current', async () => {
      const result = await run(tsxBin, [generator, '--check', '--root', workDir]);

      expect(result.stdout).toContain('are current');
    });

    test('exits 1 when the page is stale', async () => {
      const pagePath = path.join(workDir, CONFIGURATION_DOC_PATH);
      await writeFile(pagePath, (await readFile(pagePath, 'utf8')).replace('`3000`', '`8080`'));

      const failure = await run(tsxBin, [generator, '--check', '--root', workDir]).catch((error: unknown) => error);

      expect(failure).toMatchObject({ code: 1 });
      expect((failure as { stderr: string }).stderr).toContain(CONFIGURATION_DOC_PATH);
    });

    test('exits 1 when the env example is missing', async () => {
      await rm(path.join(workDir, ENV_EXAMPLE_PATH));

      const failure = await run(tsxBin, [generator, '--check', '--root', workDir]).catch((error: unknown) => error);

      expect(failure).toMatchObject({ code: 1 });
      expect((failure as { stderr: string }).stderr).toContain(ENV_EXAMPLE_PATH);
    });

    test('write mode repairs stale files', async () => {
      await writeFile(path.join(workDir, CONFIGURATION_DOC_PATH), 'outdated\n');

      await run(tsxBin, [generator, '--root', workDir]);

      expect(await findStaleFiles(workDir)).toEqual([]);
    });
  });
});
