import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ProviderCallbackSignal, TaskProgress } from './task-types';

/**
 * Messages and ids of the workflows, in a module of their own so that the API
 * can import them without loading any workflow code.
 */

export const cancelTaskSignal = defineSignal('cancelTask');
export const providerCallbackSignal = defineSignal<[ProviderCallbackSignal]>('providerCallback');
export const taskProgressQuery = defineQuery<TaskProgress>('taskProgress');

/** Workflow id of a task: derived from the task id, so a task can never run twice. */
export function taskWorkflowId(taskId: string): string {
  return `task-${taskId}`;
}

/** Workflow id of an upload's retention timer. */
export function referenceUploadWorkflowId(uploadId: string): string {
  return `upload-${uploadId}`;
}
