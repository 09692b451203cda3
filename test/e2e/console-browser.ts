/**
 * What the console's browser tests share: the built console (built here when the tree has not
 * been, as `npm ci` would), one headless Chromium per test file (Debian's package, driven by
 * playwright-core through executablePath), sign-in, and screenshots kept as artifacts under
 * test/e2e/__screenshots__/ (gitignored).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CONSOLE_DIR } from '../../api/console-static';

const ROOT = path.resolve(__dirname, '..', '..');
export const SCREENSHOTS = path.join(__dirname, '__screenshots__');

export function ensureConsoleBuilt(): void {
  if (fs.existsSync(path.join(CONSOLE_DIR, 'index.html'))) return;
  execFileSync('npm', ['run', '-s', 'console:build'], { cwd: ROOT, stdio: 'inherit' });
}

export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean) as string[];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error('Chromium not found: apt-get install -y chromium (bash .ci/run does), or set CHROMIUM_PATH');
  return found;
}

export async function launchBrowser(): Promise<Browser> {
  ensureConsoleBuilt();
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

export async function openConsole(browser: Browser, apiUrl: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  await page.goto(`${apiUrl}/console/`);
  return page;
}

/** Signs in by pasting a token (a staff member's, or — to see it refused — a customer's). */
export async function signInWithToken(page: Page, token: string): Promise<void> {
  await page.locator('textarea[name="token"]').fill(token);
  await page.getByRole('button', { name: 'Use token' }).click();
  await page.locator('header nav').waitFor();
}

export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Fills the reason (and any other fields: inputs, or choices of a select) of the open action dialog and confirms it. */
export async function confirmAction(page: Page, reason: string, fields: Record<string, string> = {}): Promise<void> {
  const dialog = page.getByRole('dialog');
  for (const [name, value] of Object.entries(fields)) {
    const field = dialog.locator(`[name="${name}"]`);
    if ((await field.evaluate((el) => el.tagName)) === 'SELECT') await field.selectOption(value);
    else await field.fill(value);
  }
  await dialog.locator('textarea[name="reason"]').fill(reason);
  await dialog.locator('button[type="submit"]').click();
  await dialog.waitFor({ state: 'detached' });
}
