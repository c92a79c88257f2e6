import { defineStore } from 'pinia';
import { ref } from 'vue';

/** localStorage key of the ids of toasts already shown, so a reload does not show them again. */
export const TOAST_STORAGE_KEY = 'novart.toasts';
const REMEMBERED_IDS = 100;

export interface Toast {
  id: string;
  text: string;
  tone: 'info' | 'good' | 'bad';
}

function readShown(): string[] {
  try {
    const parsed: unknown = JSON.parse(window.localStorage.getItem(TOAST_STORAGE_KEY) ?? '[]');
    return Array.isArray(parsed) ? parsed.filter((id): id is string => typeof id === 'string') : [];
  } catch {
    return [];
  }
}

function writeShown(ids: string[]): void {
  try {
    window.localStorage.setItem(TOAST_STORAGE_KEY, JSON.stringify(ids.slice(-REMEMBERED_IDS)));
  } catch {
    // Without storage a toast may show again after a reload, which is harmless.
  }
}

/** Short notices in the corner. Toasts with a stable id (such as a message id) show once per browser. */
export const useToastStore = defineStore('toasts', () => {
  const toasts = ref<Toast[]>([]);
  let counter = 0;

  function show(text: string, options: { id?: string; tone?: Toast['tone'] } = {}): void {
    const id = options.id ?? `local-${++counter}`;
    if (options.id) {
      const shown = readShown();
      if (shown.includes(id)) return;
      writeShown([...shown, id]);
    }

    toasts.value.push({ id, text, tone: options.tone ?? 'info' });
    setTimeout(() => dismiss(id), 8_000);
  }

  function dismiss(id: string): void {
    toasts.value = toasts.value.filter((toast) => toast.id !== id);
  }

  return { toasts, show, dismiss };
});
