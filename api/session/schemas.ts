import { z } from 'zod';
import { API_KEY_SCOPES } from '../../lib/api-keys';
import { PASSWORD_MAX_LENGTH } from '../../lib/auth/passwords';

/** Request bodies of the session API. Passwords must be strings, so an object or array is a 400. */

const email = z.string().trim().max(254).pipe(z.email());
const password = z.string().min(1).max(PASSWORD_MAX_LENGTH);
const locale = z.enum(['en', 'zh-CN', 'ja']);
const token = z.string().min(1).max(200);

export const signUpSchema = z.strictObject({
  email,
  password,
  displayName: z.string().trim().min(1).max(80).optional(),
  locale: locale.optional(),
  inviteCode: z.string().trim().min(1).max(32).optional(),
});

export const signInSchema = z.strictObject({ email, password });

export const emailOnlySchema = z.strictObject({ email });

export const tokenSchema = z.strictObject({ token });

export const resetConfirmSchema = z.strictObject({ token, password });

export const changePasswordSchema = z.strictObject({ currentPassword: password, newPassword: password });

export const updateAccountSchema = z.strictObject({
  displayName: z.string().trim().min(1).max(80).nullable().optional(),
  locale: locale.optional(),
});

export const createKeySchema = z.strictObject({
  name: z.string().trim().min(1).max(80),
  scopes: z.array(z.enum(API_KEY_SCOPES)).min(1).transform((scopes) => [...new Set(scopes)]),
  requestsPerMinute: z.int().min(1).max(100_000).nullable().optional(),
  creditsPerDay: z.int().min(1).max(100_000_000).nullable().optional(),
  expiresAt: z.iso
    .datetime({ offset: true })
    .transform((text) => new Date(text))
    .refine((date) => date > new Date(), 'must be in the future')
    .nullable()
    .optional(),
});

export const appealSchema = z.strictObject({ email, password, message: z.string().trim().min(1).max(4_000) });

export const requestLogQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(200).optional(),
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).optional(),
  status: z.coerce.number().int().min(100).max(599).optional(),
  keyPrefix: z.string().regex(/^[a-z0-9]{12}$/).optional(),
  taskId: z.uuid().optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
});
