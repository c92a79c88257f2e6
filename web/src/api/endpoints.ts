import { requestJson } from './client';

/**
 * Every `/api` call of the Studio in one place, typed after the server's
 * serializers. The browser authenticates with the session cookie only.
 */

export interface Account {
  id: string;
  email: string;
  displayName: string | null;
  locale: string | null;
  role: string;
  emailVerified: boolean;
  inviteCode: string | null;
  createdAt: string;
  lastSignInAt?: string | null;
}

/** A signed-in browser of the account; `id` is derived from the session id, never the id itself. */
export interface SignedInSession {
  id: string;
  current: boolean;
  userAgent: string | null;
  ip: string | null;
  createdAt: string;
  expiresAt: string;
}

export interface AccountExport {
  id: string;
  status: 'pending' | 'ready' | 'expired' | 'failed';
  sizeBytes: number | null;
  createdAt: string;
  readyAt: string | null;
  expiresAt: string;
  /** A short-lived link while the archive is ready; fetch the list again for a fresh one. */
  downloadUrl: string | null;
}

export interface TaskAsset {
  id: string;
  taskId: string;
  index: number;
  mimeType: string;
  width: number;
  height: number;
  sizeBytes: number;
  expiresAt: string;
  expired: boolean;
}

export type TaskStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled' | 'expired';

export interface Task {
  id: string;
  status: TaskStatus;
  progress: number;
  model: string;
  prompt: string;
  negativePrompt: string | null;
  width: number;
  height: number;
  aspectRatio: string | null;
  imageCount: number;
  price: number;
  errorCode: string | null;
  errorMessage: string | null;
  createdAt: string;
  finishedAt: string | null;
  expiresAt: string | null;
  assets: TaskAsset[];
}

export interface AssetLinks extends TaskAsset {
  downloadUrl: string;
  previewUrl: string;
  linkExpiresInSeconds: number;
}

export interface Upload {
  id: string;
  mimeType: string;
  width: number;
  height: number;
  sizeBytes: number;
  createdAt: string;
  expiresAt: string;
}

export interface Wallet {
  balance: number;
  bonus: number;
}

export interface LedgerEntry {
  id: string;
  kind: string;
  balanceDelta: number;
  bonusDelta: number;
  balanceAfter: number;
  bonusAfter: number;
  taskId?: string | null;
  createdAt: string;
}

export interface Referral {
  inviteCode: string;
  inviteLink: string;
  stats: { invited: number; rewarded: number; pending: number; rewardCredits: number };
}

export interface Message {
  id: string;
  kind: string;
  params: Record<string, unknown>;
  taskId: string | null;
  readAt: string | null;
  createdAt: string;
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  requestsPerMinute?: number | null;
  creditsPerDay?: number | null;
  expiresAt?: string | null;
  lastUsedAt?: string | null;
  revokedAt?: string | null;
  createdAt: string;
}

export interface RequestLog {
  id: string;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  keyPrefix: string | null;
  taskId: string | null;
  createdAt: string;
}

export interface ModelPrice {
  model: string;
  label?: string;
}

export interface PriceQuote {
  unitPrice: number;
  total: number;
  available: number;
  affordable: boolean;
}

export interface WebhookSecret {
  secret: string;
  previousSecretExpiresAt: string | null;
}

export interface Page<T> {
  data: T[];
  nextCursor?: string | null;
}

// Sessions and the account.
export const fetchSession = () => requestJson<{ authenticated: boolean; account: Account | null }>('GET', '/api/auth/session');
export const signUp = (json: { email: string; password: string; displayName?: string; locale: string }) =>
  requestJson<unknown>('POST', '/api/auth/sign-up', { json });
export const signIn = (json: { email: string; password: string }) => requestJson<unknown>('POST', '/api/auth/sign-in', { json });
export const signOut = () => requestJson<unknown>('POST', '/api/auth/sign-out');
export const verifyEmail = (token: string) => requestJson<unknown>('POST', '/api/auth/verify-email', { json: { token } });
export const requestPasswordReset = (email: string) => requestJson<unknown>('POST', '/api/auth/password-reset', { json: { email } });
export const resetPassword = (token: string, password: string) =>
  requestJson<unknown>('POST', '/api/auth/password-reset/confirm', { json: { token, password } });
export const updateAccount = (json: { displayName?: string; locale?: string }) => requestJson<Account>('PATCH', '/api/account', { json });
export const changePassword = (json: { currentPassword: string; newPassword: string }) => requestJson<unknown>('POST', '/api/account/password', { json });
/** Banned accounts cannot sign in, so the appeal carries the credentials. */
export const fileAppeal = (json: { email: string; password: string; message: string }) => requestJson<unknown>('POST', '/api/appeals', { json });

// Generation.
export const fetchModels = () => requestJson<{ data: ModelPrice[] }>('GET', '/api/wallet/prices');
export const quotePrice = (query: { model: string; size?: string; aspectRatio?: string; imageCount: number }) =>
  requestJson<PriceQuote>('GET', `/api/wallet/quote?${new URLSearchParams(Object.entries(query).flatMap(([key, value]) => (value === undefined ? [] : [[key, String(value)]])))}`);
export const createTask = (json: Record<string, unknown>) => requestJson<Task>('POST', '/api/tasks', { json });
export const fetchTasks = (cursor?: string) => requestJson<Page<Task>>('GET', `/api/tasks${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ''}`);
export const fetchTask = (id: string) => requestJson<Task>('GET', `/api/tasks/${encodeURIComponent(id)}`);
export const cancelTask = (id: string) => requestJson<Task>('POST', `/api/tasks/${encodeURIComponent(id)}/cancel`);
export const uploadReference = (blob: Blob) => requestJson<Upload>('POST', '/api/uploads', { blob });
export const fetchAssetLinks = (id: string) => requestJson<AssetLinks>('GET', `/api/assets/${encodeURIComponent(id)}`);

// Wallet.
export const fetchWallet = () => requestJson<Wallet>('GET', '/api/wallet');
export const fetchLedger = () => requestJson<Page<LedgerEntry>>('GET', '/api/wallet/ledger');
export const redeemCode = (code: string) => requestJson<unknown>('POST', '/api/wallet/redeem', { json: { code } });
export const fetchReferral = () => requestJson<Referral>('GET', '/api/wallet/referral');

// Messages.
export const fetchMessages = () => requestJson<{ unreadCount: number; data: Message[] }>('GET', '/api/messages');
export const markMessageRead = (id: string) => requestJson<unknown>('POST', `/api/messages/${encodeURIComponent(id)}/read`);
export const markAllMessagesRead = () => requestJson<unknown>('POST', '/api/messages/read-all');

// Signed-in sessions.
export const fetchSessions = () => requestJson<{ data: SignedInSession[] }>('GET', '/api/sessions');
export const endSession = (id: string) => requestJson<unknown>('DELETE', `/api/sessions/${encodeURIComponent(id)}`);

// Privacy rights.
export const fetchExports = () => requestJson<{ data: AccountExport[] }>('GET', '/api/account/exports');
export const requestExport = () => requestJson<AccountExport>('POST', '/api/account/exports');
export const deleteAccount = (password: string) => requestJson<unknown>('POST', '/api/account/delete', { json: { password } });

// Developer center.
export const fetchApiKeys = () => requestJson<{ data: ApiKey[] }>('GET', '/api/keys');
export const createApiKey = (json: { name: string; scopes: string[]; requestsPerMinute?: number; creditsPerDay?: number; expiresAt?: string }) =>
  requestJson<ApiKey & { key: string }>('POST', '/api/keys', { json });
export const revokeApiKey = (id: string) => requestJson<unknown>('DELETE', `/api/keys/${encodeURIComponent(id)}`);
export const fetchRequestLogs = () => requestJson<Page<RequestLog>>('GET', '/api/request-logs');
export const fetchWebhookSecret = () => requestJson<WebhookSecret>('GET', '/api/webhook-secret');
export const rotateWebhookSecret = () => requestJson<WebhookSecret>('POST', '/api/webhook-secret/rotate');
