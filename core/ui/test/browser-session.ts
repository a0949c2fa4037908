/**
 * What the browser tests share: a fresh build of the UI into a temporary folder (so the tests see
 * the current sources and never touch dist/), Debian's chromium driven by playwright-core (no
 * browser download), axe-core for accessibility, and a folder for screenshots.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Builds the UI with Vite into a new temporary folder and returns it. Several test files (and
 * `npm run build`) may build at once; each writes its own folder, so Vite's one-build-per-project
 * lock is bypassed.
 */
export function buildUiInto(): string {
  const out = mkdtempSync(join(tmpdir(), 'sextant-ui-build-'));
  const vite = join(dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin/vite.js');
  try {
    execFileSync(process.execPath, [vite, 'build', '--outDir', out, '--emptyOutDir', '--logLevel', 'warn', '--bypass-lock'], { cwd: packageDir, stdio: 'pipe', timeout: 120_000 });
  } catch (e) {
    rmSync(out, { recursive: true, force: true });
    throw e;
  }
  return out;
}

export function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({ executablePath, headless: true, args: CHROMIUM_FLAGS.filter((f) => f !== '--headless') });
}

/** Where screenshots go: $SEXTANT_UI_SCREENSHOTS, or a new temporary folder. */
export function screenshotDir(): string {
  const dir = process.env.SEXTANT_UI_SCREENSHOTS ?? mkdtempSync(join(tmpdir(), 'sextant-ui-shots-'));
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** axe-core violations of impact serious or critical (WCAG 2 A/AA rules), as short lines. */
export async function seriousA11yViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')}`);
}
