import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium package (scripts/bootstrap.sh installs it); playwright-core downloads no browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Headless Chromium that talks to nothing but the pages it is sent to. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
