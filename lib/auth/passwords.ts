import { hash, verify } from '@node-rs/argon2';
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { adjacencyGraphs, dictionary } from '@zxcvbn-ts/language-common';
import { AppError } from '../errors';

/**
 * Password rules, as the sign-up page states them: 10 to 256 characters, and
 * not guessable: zxcvbn rejects passwords from leaked-password lists, keyboard
 * walks, repeats, dates and variations of the user's own e-mail address.
 */

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 256;
const MIN_STRENGTH_SCORE = 3;

const strength = new ZxcvbnFactory({ dictionary, graphs: adjacencyGraphs });

// Compared against when the e-mail is unknown, so that a miss costs the same time as a wrong password.
const DUMMY_HASH_PROMISE = hash('novart-placeholder-password-that-never-matches');

/** Throws WEAK_PASSWORD unless `password` meets the rules. */
export function checkPasswordStrength(password: string, email: string): void {
  if (password.length < PASSWORD_MIN_LENGTH || password.length > PASSWORD_MAX_LENGTH) {
    throw new AppError('WEAK_PASSWORD', `Use ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters`, {
      minLength: PASSWORD_MIN_LENGTH,
      maxLength: PASSWORD_MAX_LENGTH,
    });
  }

  const result = strength.check(password, [email, ...email.split(/[@.+_-]/)]);
  if (result.score < MIN_STRENGTH_SCORE) {
    throw new AppError('WEAK_PASSWORD', 'The password is too easy to guess: it is common, leaked or based on your e-mail address', {
      minLength: PASSWORD_MIN_LENGTH,
      maxLength: PASSWORD_MAX_LENGTH,
    });
  }
}

/** Checks a password against a stored argon2id hash; without a hash it spends the same time and fails. */
export async function verifyPassword(passwordHash: string | null | undefined, password: string): Promise<boolean> {
  try {
    if (!passwordHash) {
      await verify(await DUMMY_HASH_PROMISE, password);
      return false;
    }
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}
