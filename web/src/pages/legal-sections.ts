/**
 * The outline of the privacy and terms pages. The text is in the locale
 * files, and a test checks that this outline and those keys match exactly.
 */

/** One section: `<namespace>.<id>.title`, then `.items.<key>` as a list and `.body` as a paragraph when present. */
export interface LegalSection {
  id: string;
  items?: readonly string[];
  body?: boolean;
}

// The retention periods in the text are the defaults of RESULT_RETENTION (2d), REFERENCE_RETENTION (24h) and EXPORT_RETENTION (7d) in lib/config.ts.
// NOTE: API request logs and webhook delivery records have no configured retention yet, so the text defers to the operator.
export const PRIVACY_SECTIONS: readonly LegalSection[] = [
  { id: 'stored', items: ['account', 'password', 'wallet', 'tasks', 'results', 'references', 'apiLogs', 'webhooks'] },
  { id: 'purpose', body: true },
  { id: 'providers', body: true },
  { id: 'retention', items: ['results', 'references', 'exports', 'account', 'logs'], body: true },
  { id: 'cookies', body: true },
  { id: 'rights', items: ['export', 'deletion', 'correction', 'contact'] },
  { id: 'changes', body: true },
];

// The webhook retry period in the text is the default of WEBHOOK_RETRY_WINDOW (25h) in lib/config.ts.
export const TERMS_SECTIONS: readonly LegalSection[] = [
  { id: 'account', items: ['accurate', 'responsible', 'suspension'] },
  { id: 'wallet', items: ['prepaid', 'prices', 'refunds', 'payout'] },
  { id: 'use', items: ['lawful', 'screening', 'limits'] },
  { id: 'content', items: ['responsibility', 'ownership', 'deletion'] },
  { id: 'api', items: ['signatures', 'addresses', 'retries'] },
  { id: 'liability', body: true },
  { id: 'changes', body: true },
];
