import { createRouter, createWebHistory } from 'vue-router';

import HomePage from './pages/HomePage.vue';
import { useSessionStore } from './stores/session';

declare module 'vue-router' {
  interface RouteMeta {
    /** i18n key of the page title, shown in the browser tab. */
    titleKey?: string;
    /** Only for signed-in accounts; visitors are sent to sign in first. */
    requiresAuth?: boolean;
    /** Only for visitors; signed-in accounts go to the Studio instead. */
    guestOnly?: boolean;
  }
}

export const router = createRouter({
  history: createWebHistory(import.meta.env.BASE_URL),
  routes: [
    { path: '/', name: 'home', component: HomePage, meta: { titleKey: 'nav.home' } },
    { path: '/sign-up', name: 'sign-up', component: () => import('./pages/SignUpPage.vue'), meta: { titleKey: 'auth.signUp.title', guestOnly: true } },
    // Invite links use this spelling.
    { path: '/signup', redirect: (to) => ({ name: 'sign-up', query: to.query }) },
    { path: '/sign-in', name: 'sign-in', component: () => import('./pages/SignInPage.vue'), meta: { titleKey: 'auth.signIn.title', guestOnly: true } },
    { path: '/verify-email', name: 'verify-email', component: () => import('./pages/VerifyEmailPage.vue'), meta: { titleKey: 'auth.verify.title' } },
    { path: '/reset-password', name: 'reset-password', component: () => import('./pages/ResetPasswordPage.vue'), meta: { titleKey: 'auth.reset.title' } },
    { path: '/studio', name: 'studio', component: () => import('./pages/StudioPage.vue'), meta: { titleKey: 'nav.studio', requiresAuth: true } },
    { path: '/assets', name: 'assets', component: () => import('./pages/AssetsPage.vue'), meta: { titleKey: 'nav.assets', requiresAuth: true } },
    { path: '/wallet', name: 'wallet', component: () => import('./pages/WalletPage.vue'), meta: { titleKey: 'nav.wallet', requiresAuth: true } },
    { path: '/messages', name: 'messages', component: () => import('./pages/MessagesPage.vue'), meta: { titleKey: 'nav.messages', requiresAuth: true } },
    { path: '/developer', name: 'developer', component: () => import('./pages/DeveloperPage.vue'), meta: { titleKey: 'nav.developer', requiresAuth: true } },
    { path: '/account', name: 'account', component: () => import('./pages/AccountPage.vue'), meta: { titleKey: 'nav.account', requiresAuth: true } },
    { path: '/docs/api', name: 'api-docs', component: () => import('./pages/ApiDocsPage.vue'), meta: { titleKey: 'apiDocs.title' } },
    { path: '/privacy', name: 'privacy', component: () => import('./pages/PrivacyPage.vue'), meta: { titleKey: 'privacy.title' } },
    { path: '/terms', name: 'terms', component: () => import('./pages/TermsPage.vue'), meta: { titleKey: 'terms.title' } },
    {
      path: '/:pathMatch(.*)*',
      name: 'not-found',
      component: () => import('./pages/NotFoundPage.vue'),
      meta: { titleKey: 'notFound.title' },
    },
  ],
  scrollBehavior(to, _from, savedPosition) {
    if (savedPosition) return savedPosition;
    // E-mail links carry `#token=…`, which is not an element id to scroll to.
    if (/^#[\w-]+$/.test(to.hash)) return { el: to.hash };
    return { top: 0 };
  },
});

router.beforeEach(async (to) => {
  if (!to.meta.requiresAuth && !to.meta.guestOnly) return true;

  const session = useSessionStore();
  await session.ensureLoaded();

  if (to.meta.requiresAuth && !session.signedIn) return { name: 'sign-in', query: { redirect: to.fullPath } };
  if (to.meta.guestOnly && session.signedIn) return { name: 'studio' };
  return true;
});
