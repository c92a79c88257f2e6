import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../../temporal/task-worker';

/**
 * Replays recorded histories against the current workflow code. A change that
 * alters the commands a workflow issues fails here, and must go behind
 * `patched()` so that running workflows keep replaying.
 */
const FIXTURES_DIR = path.resolve(__dirname, '..', 'fixtures', 'histories');
const fixtures = fs.readdirSync(FIXTURES_DIR).filter((file) => file.endsWith('.binpb'));

jest.setTimeout(60_000);

test('history fixtures exist', () => {
  expect(fixtures.length).toBeGreaterThan(0);
});

test.each(fixtures)('replays %s', async (file) => {
  const history = temporal.api.history.v1.History.decode(fs.readFileSync(path.join(FIXTURES_DIR, file)));

  await expect(Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, history, file)).resolves.toBeUndefined();
});
