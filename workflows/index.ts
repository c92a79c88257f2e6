// Entry point of the workflow bundle: every workflow the worker runs is exported here.
export { accountExport } from './account-export';
export { generationTask } from './generation-task';
export { referenceUploadRetention, webhookRedelivery } from './maintenance';
export { reconciliation } from './reconciliation';
