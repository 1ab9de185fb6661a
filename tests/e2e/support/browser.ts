import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (apt-get install chromium): never a downloaded browser (no `playwright install`). */
export const CHROMIUM = process.env.HEIRLOOM_CHROMIUM ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}
