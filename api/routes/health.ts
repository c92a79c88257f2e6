import { Router } from 'express';
import { checkReadiness, type ReadinessCheck } from '../readiness';

/** `/healthz` answers while the process runs; `/readyz` only when every dependency answers. */
export function healthRouter(checks: ReadinessCheck[]): Router {
  const router = Router();

  router.get('/healthz', (_request, response) => {
    response.json({ status: 'ok' });
  });

  router.get('/readyz', async (request, response) => {
    const report = await checkReadiness(checks);
    if (report.status !== 'ready') {
      const failing = Object.entries(report.checks).filter(([, result]) => !result.ok).map(([name]) => name);
      request.log?.warn({ failing }, 'not ready');
    }
    response.status(report.status === 'ready' ? 200 : 503).json(report);
  });

  return router;
}
