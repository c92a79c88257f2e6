-- Hand-written migration: Prisma's schema language has no CHECK constraints.

-- A wallet never goes below zero: a debit that would overdraw fails inside its transaction.
ALTER TABLE "wallets" ADD CONSTRAINT "wallets_balance_non_negative" CHECK ("balance" >= 0);
ALTER TABLE "wallets" ADD CONSTRAINT "wallets_bonus_non_negative" CHECK ("bonus" >= 0);

-- E-mail addresses are stored lower-cased, which makes the unique index case-insensitive.
ALTER TABLE "accounts" ADD CONSTRAINT "accounts_email_lower_case" CHECK ("email" = lower("email"));
