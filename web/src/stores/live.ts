import { defineStore } from 'pinia';
import { ref } from 'vue';

import type { Message } from '../api/endpoints';
import { i18n } from '../i18n';
import { notifyTaskFinished } from '../notifications';
import { useMessageStore } from './messages';
import { isTerminal, useTaskStore, type TaskUpdate } from './tasks';
import { useToastStore } from './toasts';

/**
 * One EventSource on `/api/events` while signed in. The browser reconnects by
 * itself after the server's `retry` delay, so there is no client polling.
 */
export const useLiveStore = defineStore('live', () => {
  const connected = ref(false);
  let source: EventSource | undefined;

  function start(): void {
    if (source) return;

    source = new EventSource('/api/events', { withCredentials: true });
    source.addEventListener('open', () => (connected.value = true));
    source.addEventListener('error', () => (connected.value = false));
    source.addEventListener('ready', (event) => {
      useMessageStore().unreadCount = (JSON.parse((event as MessageEvent<string>).data) as { unreadCount: number }).unreadCount;
    });
    source.addEventListener('task', (event) => void onTask(JSON.parse((event as MessageEvent<string>).data) as TaskUpdate));
    source.addEventListener('message', (event) => onMessage(JSON.parse((event as MessageEvent<string>).data) as Message & { unreadCount: number }));
  }

  function stop(): void {
    source?.close();
    source = undefined;
    connected.value = false;
  }

  async function onTask(update: TaskUpdate): Promise<void> {
    const task = await useTaskStore().applyUpdate(update);
    if (task && isTerminal(update.status) && document.visibilityState === 'hidden') {
      await notifyTaskFinished(task);
    }
  }

  function onMessage(message: Message & { unreadCount: number }): void {
    useMessageStore().receive(message, message.unreadCount);

    const { t, te } = i18n.global;
    const key = `messages.kinds.${message.kind.replace(/\./g, '_')}`;
    useToastStore().show(te(key, 'en') ? t(key) : t('messages.kinds.other'), { id: `message-${message.id}` });
  }

  return { connected, start, stop };
});
