import fs from 'node:fs/promises';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { startProduct, TEST_MODEL, type ProductHarness } from '../support/product';

/**
 * Records workflow histories for the replay test. Runs only with
 * RECORD_HISTORIES=1, after a deliberate change to workflow code:
 *   RECORD_HISTORIES=1 npm test -- test/workflows/record-histories.test.ts
 */
const FIXTURES_DIR = path.resolve(__dirname, '..', 'fixtures', 'histories');
const recording = process.env.RECORD_HISTORIES === '1';

jest.setTimeout(120_000);

(recording ? describe : describe.skip)('record histories', () => {
  let product: ProductHarness;

  beforeAll(async () => {
    product = await startProduct({ env: { RESULT_RETENTION: '3s' } });
  });

  afterAll(async () => {
    await product?.close();
  });

  async function record(name: string, body: Record<string, unknown>, script?: () => void): Promise<void> {
    script?.();
    const created = await product.request('POST', '/v1/tasks', { body: { prompt: name, model: TEST_MODEL, size: '256x256', ...body } });
    const handle = product.temporal.workflow.getHandle(created.body.workflowId);
    await handle.result();

    const history = await handle.fetchHistory();
    await fs.mkdir(FIXTURES_DIR, { recursive: true });
    await fs.writeFile(path.join(FIXTURES_DIR, `${name}.binpb`), temporal.api.history.v1.History.encode(history).finish());
  }

  test('succeeded then expired', async () => {
    await record('generation-succeeded', {}, () => product.upstream.script('generations', [500, 200]));
  });

  test('failed and refunded', async () => {
    await record('generation-failed', {}, () => product.upstream.script('generations', ['content-policy']));
  });
});
