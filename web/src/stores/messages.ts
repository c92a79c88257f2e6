import { defineStore } from 'pinia';
import { ref } from 'vue';

import { fetchMessages, markAllMessagesRead, markMessageRead, type Message } from '../api/endpoints';

/** The inbox and its unread count; new messages arrive through the event stream. */
export const useMessageStore = defineStore('messages', () => {
  const messages = ref<Message[]>([]);
  const unreadCount = ref(0);
  const state = ref<'idle' | 'loading' | 'loaded' | 'error'>('idle');
  const error = ref<unknown>();

  async function load(): Promise<void> {
    state.value = 'loading';
    try {
      const page = await fetchMessages();
      messages.value = page.data;
      unreadCount.value = page.unreadCount;
      state.value = 'loaded';
    } catch (caught) {
      error.value = caught;
      state.value = 'error';
    }
  }

  function receive(message: Message, unread: number): void {
    if (!messages.value.some((known) => known.id === message.id)) messages.value.unshift(message);
    unreadCount.value = unread;
  }

  async function markRead(id: string): Promise<void> {
    await markMessageRead(id);
    const message = messages.value.find((known) => known.id === id);
    if (message && !message.readAt) {
      message.readAt = new Date().toISOString();
      unreadCount.value = Math.max(0, unreadCount.value - 1);
    }
  }

  async function markAllRead(): Promise<void> {
    await markAllMessagesRead();
    const now = new Date().toISOString();
    for (const message of messages.value) message.readAt ??= now;
    unreadCount.value = 0;
  }

  return { messages, unreadCount, state, error, load, receive, markRead, markAllRead };
});
