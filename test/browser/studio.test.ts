import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createRedemptionBatch } from '../../lib/redemption';
import { flattenMessages, LOCALE_FILES } from '../web/locale-files';
import { startProduct, type ProductHarness } from '../support/product';
import { startSmtpServer, type SmtpCapture } from '../support/smtp-server';

/**
 * The Studio in Debian's Chromium against the running product: the whole
 * creator journey once per locale, with screenshots for review in
 * test-results/screenshots (gitignored).
 */

const ROOT_DIR = path.resolve(__dirname, '..', '..');
const WEB_DIR = path.join(ROOT_DIR, 'web');
const DIST_INDEX = path.join(WEB_DIR, 'dist', 'index.html');
const SCREENSHOT_DIR = path.join(ROOT_DIR, 'test-results', 'screenshots');
const CHROMIUM = '/usr/bin/chromium';
const LOCALES = ['en', 'zh-CN', 'ja'] as const;
const PASSWORD = 'correct horse battery staple 42';

// Every dotted key of en.json; a page that shows one of them shows an untranslated key.
const MESSAGE_KEYS = [...flattenMessages(LOCALE_FILES.en).keys()].filter((key) => key.includes('.'));

jest.setTimeout(240_000);

let product: ProductHarness;
let smtp: SmtpCapture;
let browser: Browser;
let workDir: string;

function newestSourceTime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && !entry.parentPath.includes(`${path.sep}dist`)) newest = Math.max(newest, fs.statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

// The build takes seconds, so it only runs when web/dist is missing or older than its sources.
function ensureWebBuild(): void {
  const built = fs.existsSync(DIST_INDEX) ? fs.statSync(DIST_INDEX).mtimeMs : 0;
  if (built > newestSourceTime(path.join(WEB_DIR, 'src')) && built > newestSourceTime(path.join(WEB_DIR, 'public'))) return;

  execFileSync('npm', ['run', 'build:web'], { cwd: ROOT_DIR, stdio: 'ignore' });
}

async function expectNoRawKeys(page: Page): Promise<void> {
  const text = await page.locator('body').innerText();
  const shown = MESSAGE_KEYS.filter((key) => text.includes(key));

  expect({ url: page.url(), shown }).toEqual({ url: page.url(), shown: [] });
}

// What the in-page callbacks read; the Node type check has no DOM types, and string callbacks would break the page's CSP.
interface PageGlobals {
  document: { querySelector(selector: string): { complete: boolean; naturalWidth: number } | null };
  localStorage: object;
}

// Waits until the image has decoded, so a broken link or a Content-Security-Policy block fails the step.
async function waitForImageLoaded(page: Page, selector: string): Promise<void> {
  await page.waitForFunction((css) => {
    const image = (globalThis as unknown as PageGlobals).document.querySelector(css);
    return image !== null && image.complete && image.naturalWidth > 0;
  }, selector);
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

beforeAll(async () => {
  ensureWebBuild();
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  smtp = await startSmtpServer();
  product = await startProduct({ webDistDir: path.join(WEB_DIR, 'dist'), env: { SMTP_URL: smtp.url } });
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'novart-chromium-'));
  // playwright-core starts Chromium with a fresh temporary profile of its own, so no --user-data-dir is passed.
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});

afterAll(async () => {
  await browser?.close();
  await product?.close();
  await smtp?.close();
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

describe.each(LOCALES)('studio in %s', (locale) => {
  test('creator journey', async () => {
    const context = await browser.newContext({ locale, viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    const page = await context.newPage();
    const email = `creator-${locale.toLowerCase()}-${Date.now()}@example.test`;
    const { codes } = await createRedemptionBatch(product.prisma, { faceValue: 500, bonus: 50, count: 1, label: `browser ${locale}`, createdById: null });
    const reference = path.join(workDir, 'reference.png');
    fs.writeFileSync(reference, Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64'));

    await page.goto(`${product.baseUrl}/sign-up`);
    await page.waitForSelector('#sign-up-email');
    expect(await page.getAttribute('html', 'lang')).toBe(locale);
    await expectNoRawKeys(page);
    await page.fill('#sign-up-email', email);
    await page.fill('#sign-up-password', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=sign-up-done]');

    const mail = await smtp.waitForMail(email);
    const link = /https?:\/\/\S+\/verify-email#token=[\w-]+/.exec(mail.text)?.[0];
    expect(link).toBeDefined();
    await page.goto(link!);
    await page.waitForSelector('[data-testid=verify-done]');

    await page.goto(`${product.baseUrl}/sign-in`);
    await page.fill('#sign-in-email', email);
    await page.fill('#sign-in-password', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL('**/studio');

    await page.goto(`${product.baseUrl}/wallet`);
    await page.fill('#wallet-code', codes[0]!);
    await page.click('[data-testid=redeem]');
    await page.waitForSelector('[data-testid=ledger-row]');
    await expectNoRawKeys(page);
    await screenshot(page, `wallet-${locale}`);

    await page.click(`a[href="/studio"]`);
    await page.fill('#studio-prompt', 'a lighthouse at dawn, watercolor');
    await page.setInputFiles('[data-testid=reference-input]', reference);
    await page.waitForSelector('[data-testid=reference-preview]');
    await page.click('[data-testid=generate]');
    await page.waitForSelector('[data-testid=task-item][data-status=succeeded]', { timeout: 60_000 });
    await expectNoRawKeys(page);
    await screenshot(page, `studio-${locale}`);

    await page.click('[data-testid=task-item][data-status=succeeded] a');
    await waitForImageLoaded(page, '[data-testid=asset-card] img');
    await expectNoRawKeys(page);
    await screenshot(page, `assets-${locale}`);
    await page.click('[data-testid=asset-card] button');
    await waitForImageLoaded(page, '[data-testid=asset-dialog] img');
    const download = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=asset-download]')]).then(([event]) => event);
    expect(await download.failure()).toBeNull();

    await page.goto(`${product.baseUrl}/wallet`);
    await page.waitForSelector('[data-testid=ledger-row] >> nth=1');
    const ledgerRows = await page.locator('[data-testid=ledger-row]').count();
    expect(ledgerRows).toBeGreaterThanOrEqual(2);

    await page.goto(`${product.baseUrl}/developer`);
    await page.fill('#key-name', 'browser key');
    await page.click('[data-testid=create-key]');
    const key = await page.locator('[data-testid=created-key] code').innerText();
    expect(key).toMatch(/^nva_/);
    await expectNoRawKeys(page);

    await page.goto(`${product.baseUrl}/account`);
    await page.waitForSelector('[data-testid=session-row] [data-testid=session-current]');
    expect(await page.locator('[data-testid=session-row]').count()).toBe(1);

    await page.goto(`${product.baseUrl}/docs/api`);
    await page.waitForSelector('[data-testid=api-operation] >> nth=15');
    await expectNoRawKeys(page);
    await screenshot(page, `api-docs-${locale}`);

    for (const pathname of ['/messages', '/account', '/privacy', '/terms']) {
      await page.goto(`${product.baseUrl}${pathname}`);
      await page.waitForLoadState('networkidle');
      await expectNoRawKeys(page);
    }

    await page.click('[data-testid=sign-out]');
    await page.waitForURL(`${product.baseUrl}/`);
    const stored = await page.evaluate(() => Object.keys((globalThis as unknown as PageGlobals).localStorage).sort());
    expect(stored.every((name) => name === 'novart.locale' || name === 'novart.toasts')).toBe(true);

    await context.close();
  });
});
