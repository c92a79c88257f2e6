import { defineStore } from 'pinia';
import { computed, ref } from 'vue';

import { fetchTask, fetchTasks, type Task } from '../api/endpoints';

export interface TaskUpdate {
  id: string;
  status: Task['status'];
  progress: number;
  errorCode: string | null;
}

const TERMINAL = new Set(['succeeded', 'failed', 'canceled', 'expired']);

export function isTerminal(status: string): boolean {
  return TERMINAL.has(status);
}

/** The account's recent tasks, newest first, kept current by the event stream. */
export const useTaskStore = defineStore('tasks', () => {
  const tasks = ref<Task[]>([]);
  const nextCursor = ref<string | null>(null);
  const state = ref<'idle' | 'loading' | 'loaded' | 'error'>('idle');
  const error = ref<unknown>();

  const assets = computed(() => tasks.value.flatMap((task) => task.assets.map((asset) => ({ ...asset, task }))));

  async function load(): Promise<void> {
    state.value = 'loading';
    try {
      const page = await fetchTasks();
      tasks.value = page.data;
      nextCursor.value = page.nextCursor ?? null;
      state.value = 'loaded';
    } catch (caught) {
      error.value = caught;
      state.value = 'error';
    }
  }

  async function loadMore(): Promise<void> {
    if (!nextCursor.value) return;
    const page = await fetchTasks(nextCursor.value);
    tasks.value.push(...page.data.filter((task) => !tasks.value.some((known) => known.id === task.id)));
    nextCursor.value = page.nextCursor ?? null;
  }

  function upsert(task: Task): void {
    const index = tasks.value.findIndex((known) => known.id === task.id);
    if (index === -1) tasks.value.unshift(task);
    else tasks.value[index] = task;
  }

  /** Applies a pushed status change; a finished task is fetched again for its assets. */
  async function applyUpdate(update: TaskUpdate): Promise<Task | undefined> {
    const known = tasks.value.find((task) => task.id === update.id);
    if (known && !isTerminal(update.status)) {
      known.status = update.status;
      known.progress = update.progress;
      return known;
    }

    const task = await fetchTask(update.id);
    upsert(task);
    return task;
  }

  return { tasks, assets, nextCursor, state, error, load, loadMore, upsert, applyUpdate };
});
