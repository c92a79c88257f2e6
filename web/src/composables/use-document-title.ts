import { watchEffect } from 'vue';
import { useI18n } from 'vue-i18n';
import { useRoute } from 'vue-router';

/** Keeps `document.title` on the translated title of the current route (its `meta.titleKey`). */
export function useDocumentTitle(): void {
  const route = useRoute();
  const { t } = useI18n();

  watchEffect(() => {
    const appName = t('app.name');
    const titleKey = route.meta.titleKey;

    document.title = titleKey ? `${t(titleKey)} · ${appName}` : appName;
  });
}
