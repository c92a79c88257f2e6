import { createPinia } from 'pinia';
import { createApp } from 'vue';

import App from './App.vue';
import { i18n } from './i18n';
import { router } from './router';
import { useLocaleStore } from './stores/locale';
import { useSessionStore } from './stores/session';
import './styles/main.css';

async function start(): Promise<void> {
  const app = createApp(App);
  const pinia = createPinia();
  app.use(pinia);
  app.use(i18n);
  app.use(router);

  // The locale is settled before mounting, so the first paint is already in the right language.
  await useLocaleStore(pinia).initialize();
  // Public pages need the session too, so the header shows the signed-in navigation everywhere.
  await useSessionStore(pinia).ensureLoaded();
  await router.isReady();

  app.mount('#app');
}

void start();
