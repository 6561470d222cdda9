import { chromium, type Browser } from 'playwright-core';

const { findChromium } = require('../../scripts/find-chromium.cjs') as {
  findChromium(): Promise<{ path?: string; source?: string; reason?: string }>;
};

/** CHROMIUM_PATH, the system's Chromium, or the one the @sparticuz/chromium devDependency carries. */
export async function chromiumPath(): Promise<string | undefined> {
  return (await findChromium()).path;
}

/** Headless Chromium as root in a container, on a closed network: no sandbox, no background traffic. */
export function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}
