import type { Task } from './api/endpoints';
import { i18n } from './i18n';

/** Whether the browser can show notifications through a Service Worker at all. */
export function notificationsSupported(): boolean {
  return 'Notification' in window && 'serviceWorker' in navigator;
}

/** Registers the worker and asks for permission; call it only from a click, as browsers require. */
export async function enableNotifications(): Promise<NotificationPermission> {
  if (!notificationsSupported()) return 'denied';

  await navigator.serviceWorker.register('/sw.js');
  return Notification.requestPermission();
}

/** Shows "task finished" through the Service Worker, when the user allowed it. */
export async function notifyTaskFinished(task: Task): Promise<void> {
  if (!notificationsSupported() || Notification.permission !== 'granted') return;

  const registration = await navigator.serviceWorker.getRegistration('/sw.js');
  if (!registration) return;

  const { t } = i18n.global;
  await registration.showNotification(t(`notifications.${task.status === 'succeeded' ? 'succeeded' : 'finished'}`), {
    body: task.prompt.slice(0, 120),
    tag: `task-${task.id}`,
    data: { url: '/studio' },
  });
}
