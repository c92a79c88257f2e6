// Entry point of the workflow bundle: every workflow the worker runs is exported here.
export { generationTask } from './generation-task';
export { referenceUploadRetention, webhookRedelivery } from './maintenance';
export { reconciliation } from './reconciliation';
