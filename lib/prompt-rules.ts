/**
 * Prohibited-content rules for prompts in English, Chinese and Japanese.
 *
 * Matching runs on a normalised form of the prompt so that simple evasions do
 * not get through: NFKC folds full-width letters and half-width katakana,
 * case is folded, and spaces, punctuation, zero-width characters and
 * separators between letters are removed ("C h i l d", "ｃｈｉｌｄ", "c.h.i.l.d").
 */

export interface PromptRule {
  /** Stable rule id, stored with each blocked attempt. */
  id: string;
  /** Terms in any of the three languages; matched against the normalised prompt. */
  terms: string[];
}

/** Rules shipped by default. */
export const DEFAULT_PROMPT_RULES: PromptRule[] = [
  {
    id: 'minor_sexual',
    terms: ['child porn', 'childporn', 'cp porn', 'underage nude', 'loli nude', 'lolicon', '儿童色情', '幼女色情', '児童ポルノ', 'ロリエロ'],
  },
  {
    id: 'sexual_violence',
    terms: ['rape porn', 'non consensual porn', '强奸色情', 'レイプポルノ'],
  },
  {
    id: 'terrorism',
    terms: ['bomb making instructions', 'isis propaganda', '恐怖袭击教程', 'テロ攻撃の方法'],
  },
  {
    id: 'real_person_sexual',
    terms: ['deepfake nude', 'deepfake porn', '换脸色情', 'ディープフェイクヌード'],
  },
];

// Zero-width characters, soft hyphens and every character that is neither a letter nor a digit.
const SEPARATORS = /[\p{P}\p{S}\p{Z}\p{Cc}\p{Cf}\s]+/gu;

/** Folds a text to the form rules are matched against. */
export function normalizePrompt(text: string): string {
  return text.normalize('NFKC').toLocaleLowerCase('en-US').replace(SEPARATORS, '');
}

export interface PromptCheckResult {
  allowed: boolean;
  ruleId?: string;
}

/**
 * Checks a prompt against the rules; the first matching rule blocks it. Negative
 * prompts are not checked, because naming what to avoid is their purpose.
 */
export function checkPrompt(prompt: string, rules: PromptRule[] = DEFAULT_PROMPT_RULES): PromptCheckResult {
  const normalized = normalizePrompt(prompt);

  for (const rule of rules) {
    if (rule.terms.some((term) => normalized.includes(normalizePrompt(term)))) {
      return { allowed: false, ruleId: rule.id };
    }
  }
  return { allowed: true };
}
