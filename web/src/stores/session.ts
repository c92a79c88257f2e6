import { defineStore } from 'pinia';
import { computed, shallowRef } from 'vue';

import { readStoredLocale } from '../i18n';
import { isSupportedLocale } from '../i18n/detect-locale';
import { fetchSession, signIn as postSignIn, signOut as postSignOut, type Account } from '../api/endpoints';
import { useLocaleStore } from './locale';

/** The signed-in account, read from the server; the session cookie itself is HttpOnly and never touched here. */
export const useSessionStore = defineStore('session', () => {
  const account = shallowRef<Account | null>(null);
  let loaded: Promise<void> | undefined;

  const signedIn = computed(() => account.value !== null);

  async function refresh(): Promise<void> {
    try {
      account.value = (await fetchSession()).account;
      if (account.value) await applyAccountLocale(account.value);
    } catch (error) {
      // The Studio still renders its public pages when the session cannot be read.
      console.error('loading the session failed', error);
      account.value = null;
    }
  }

  // The account's language applies on a browser that has no choice of its own yet.
  async function applyAccountLocale(signedIn: Account): Promise<void> {
    if (readStoredLocale() || !isSupportedLocale(signedIn.locale)) return;
    await useLocaleStore().setLocale(signedIn.locale, { remember: true });
  }

  /** Loads the account once per page load; route guards await it. */
  function ensureLoaded(): Promise<void> {
    loaded ??= refresh();
    return loaded;
  }

  async function signIn(email: string, password: string): Promise<void> {
    await postSignIn({ email, password });
    await refresh();
  }

  async function signOut(): Promise<void> {
    await postSignOut();
    account.value = null;
  }

  return { account, signedIn, refresh, ensureLoaded, signIn, signOut };
});
