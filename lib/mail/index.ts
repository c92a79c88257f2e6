import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Config } from '../config';
import type { Logger } from '../logger';
import en from './messages/en.json';
import ja from './messages/ja.json';
import zhCN from './messages/zh-CN.json';

/**
 * Outgoing e-mail. With SMTP_URL, nodemailer sends over SMTP; without it (the
 * embedded setup) each message is written to `$DATA_DIR/mail` as an .eml file
 * and its link is logged, so a local user can finish sign-up without a server.
 */

export type MailLocale = 'en' | 'zh-CN' | 'ja';
export type MailTemplate = 'verifyEmail' | 'resetPassword' | 'accountExists';

// The catalogs use the web app's layout and `{name}` placeholders, keyed under `mail.`.
const CATALOGS: Record<MailLocale, typeof en> = { en, 'zh-CN': zhCN, ja };

export interface MailRequest {
  to: string;
  locale: MailLocale;
  template: MailTemplate;
  /** Values of the placeholders; `link` is the action link of the message. */
  params: { link: string; name?: string; hours?: number; minutes?: number };
}

export interface Mailer {
  send(request: MailRequest): Promise<void>;
  close(): void;
}

/** Renders a message in the recipient's language; unknown locales fall back to English. */
export function renderMail(request: MailRequest): { subject: string; text: string } {
  const catalog = (CATALOGS[request.locale] ?? CATALOGS.en).mail;
  const fill = (text: string) => text.replace(/\{(\w+)\}/g, (whole, name: string) => String((request.params as Record<string, unknown>)[name] ?? whole));
  const template = catalog[request.template];
  const greeting = fill(catalog.greeting.replace('{name}', request.params.name ?? request.to));
  return { subject: template.subject, text: `${greeting}\n\n${fill(template.body)}\n\n${catalog.signature}\n` };
}

/** Opens the SMTP mailer when SMTP_URL is set, otherwise the folder writer. */
export function createMailer(config: Pick<Config, 'SMTP_URL' | 'MAIL_FROM' | 'DATA_DIR'>, logger: Logger): Mailer {
  if (config.SMTP_URL) {
    const transport = nodemailer.createTransport(config.SMTP_URL);
    return {
      async send(request) {
        const { subject, text } = renderMail(request);
        await transport.sendMail({ from: config.MAIL_FROM, to: request.to, subject, text });
        logger.info({ template: request.template }, 'e-mail sent');
      },
      close: () => transport.close(),
    };
  }

  const folder = path.join(config.DATA_DIR, 'mail');
  const transport: Transporter = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    async send(request) {
      const { subject, text } = renderMail(request);
      const info = await transport.sendMail({ from: config.MAIL_FROM, to: request.to, subject, text });
      const file = path.join(folder, `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}.eml`);
      await fs.mkdir(folder, { recursive: true });
      await fs.writeFile(file, info.message as Buffer, { mode: 0o600 });
      // NOTE: only without SMTP, where the local operator is the reader: the link is the way to finish sign-up.
      logger.info({ template: request.template, file }, `e-mail written to ${file}; its link: ${request.params.link}`);
    },
    close: () => transport.close(),
  };
}
