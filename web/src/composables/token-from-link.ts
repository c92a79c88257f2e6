import type { RouteLocationNormalizedLoaded } from 'vue-router';

/**
 * Reads the one-time token of an e-mail link. The links carry it in the
 * fragment (`#token=…`), which browsers never send to servers or in a Referer.
 */
export function tokenFromLink(route: RouteLocationNormalizedLoaded): string {
  const fromHash = new URLSearchParams(route.hash.replace(/^#/, '')).get('token');
  if (fromHash) return fromHash;

  return typeof route.query.token === 'string' ? route.query.token : '';
}
