import { defineStore } from 'pinia';
import { computed, shallowRef } from 'vue';

import { ApiError } from '../api/client';
import { readStoredLocale } from '../i18n';
import { isSupportedLocale } from '../i18n/detect-locale';
import { fetchAccount, signIn as postSignIn, signOut as postSignOut, type Account } from '../api/endpoints';
import { useLocaleStore } from './locale';

/** The signed-in account, read from the server; the session cookie itself is HttpOnly and never touched here. */
export const useSessionStore = defineStore('session', () => {
  const account = shallowRef<Account | null>(null);
  let loaded: Promise<void> | undefined;

  const signedIn = computed(() => account.value !== null);
  const banned = computed(() => account.value?.status === 'banned');

  async function refresh(): Promise<void> {
    try {
      account.value = await fetchAccount();
      await applyAccountLocale(account.value);
    } catch (error) {
      // No session is the normal state of a visitor; other failures leave the visitor signed out too.
      if (!(error instanceof ApiError) || error.status !== 401) console.error('loading the account failed', error);
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

  return { account, signedIn, banned, refresh, ensureLoaded, signIn, signOut };
});
