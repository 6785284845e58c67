// Debian's chromium driven by playwright-core: never a downloaded browser. A missing chromium fails loudly
// (`.ci/run` installs it: apt-get install chromium), it never skips.
import { existsSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env['TRIBUTARY_CHROMIUM'] ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<{ browser: Browser; close(): Promise<void> }> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`the browser tests need Debian's chromium at ${CHROMIUM}: apt-get install chromium (as .ci/run does), or set TRIBUTARY_CHROMIUM`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'tributary-chromium-'));
  // The flags keep chromium off the network it would otherwise call home to (refused on a closed machine).
  const browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`],
  }).catch(async () => chromium.launch({
    // playwright-core refuses --user-data-dir in args on some versions: fall back to its own temporary profile.
    executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  }));
  return {
    browser,
    async close() {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
