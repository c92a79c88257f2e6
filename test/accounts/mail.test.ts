import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../lib/logger';
import { createMailer, renderMail } from '../../lib/mail';

describe('mail', () => {
  test.each([
    ['en', 'Confirm your e-mail address'],
    ['zh-CN', '请验证你的邮箱地址'],
    ['ja', 'メールアドレスの確認'],
  ] as const)('renders the %s verification message with its link', (locale, subject) => {
    const rendered = renderMail({ to: 'a@example.test', locale, template: 'verifyEmail', params: { link: 'http://127.0.0.1/verify-email#token=abc', hours: 24 } });

    expect(rendered.subject).toBe(subject);
    expect(rendered.text).toContain('http://127.0.0.1/verify-email#token=abc');
    expect(rendered.text).toContain('24');
  });

  test('without SMTP the message is written to the mail folder and its link logged', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'novart-mail-'));
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } });
    const mailer = createMailer({ SMTP_URL: undefined, MAIL_FROM: 'Novart <no-reply@localhost>', DATA_DIR: dataDir }, logger);

    await mailer.send({ to: 'b@example.test', locale: 'en', template: 'resetPassword', params: { link: 'http://127.0.0.1/reset-password#token=xyz', minutes: 30 } });
    const files = await fs.readdir(path.join(dataDir, 'mail'));
    const content = await fs.readFile(path.join(dataDir, 'mail', files[0]!), 'utf8');

    expect(files).toHaveLength(1);
    expect(content).toContain('Subject: Reset your password');
    expect(lines.join('')).toContain('http://127.0.0.1/reset-password#token=xyz');
    await fs.rm(dataDir, { recursive: true, force: true });
  });
});
