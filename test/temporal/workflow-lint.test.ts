import path from 'node:path';

import { ESLint } from 'eslint';

const repoRoot = path.resolve(__dirname, '../..');
const probePath = 'workflows/lint-probe.ts';

// Type information for a file that is not on disk comes from the default project.
const eslint = new ESLint({
  cwd: repoRoot,
  overrideConfig: { languageOptions: { parserOptions: { projectService: { allowDefaultProject: [probePath] } } } },
});

/** Lints source text as if it were a workflow file; the file itself never exists on disk. */
async function lintWorkflow(source: string): Promise<ESLint.LintResult> {
  const [result] = await eslint.lintText(source, { filePath: path.join(repoRoot, probePath) });
  return result!;
}

function ruleIds(result: ESLint.LintResult): Array<string | null> {
  return result.messages.map((message) => message.ruleId);
}

describe('workflow lint rules', () => {
  beforeAll(async () => {
    // The first lint builds the TypeScript program, which takes a while on a busy machine.
    await lintWorkflow('export {};\n');
  }, 180_000);

  it('rejects a workflow importing fs', async () => {
    const source = "import fs from 'fs';\n\nexport async function probe(): Promise<boolean> {\n  return fs.existsSync('x');\n}\n";

    const result = await lintWorkflow(source);

    expect(result.errorCount).toBeGreaterThan(0);
    expect(ruleIds(result)).toContain('@typescript-eslint/no-restricted-imports');
  });

  it('rejects node: imports, SDK host packages and process', async () => {
    const source = [
      "import { readFile } from 'node:fs/promises';",
      "import { Client } from '@temporalio/client';",
      '',
      'export async function probe(): Promise<unknown> {',
      '  return [readFile, Client, process.env.HOME];',
      '}',
      '',
    ].join('\n');

    const result = await lintWorkflow(source);

    const restrictedImports = result.messages.filter((message) => message.ruleId === '@typescript-eslint/no-restricted-imports');
    expect(restrictedImports).toHaveLength(2);
    expect(ruleIds(result)).toContain('no-restricted-globals');
  });

  it('allows type imports from lib and activities', async () => {
    const source = [
      "import type { Config } from '../lib/config';",
      "import { sleep } from '@temporalio/workflow';",
      '',
      "export async function probe(config: Config): Promise<string> {",
      '  await sleep(1);',
      '  return config.TEMPORAL_NAMESPACE;',
      '}',
      '',
    ].join('\n');

    const result = await lintWorkflow(source);

    expect(result.messages).toEqual([]);
  });

  it('rejects a value import from lib', async () => {
    const source = "import { loadConfig } from '../lib/config';\n\nexport const probe = loadConfig;\n";

    const result = await lintWorkflow(source);

    expect(ruleIds(result)).toContain('@typescript-eslint/no-restricted-imports');
  });
});
