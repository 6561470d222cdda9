import assert from 'node:assert/strict';
import { withoutSafeModeBanner } from '../../src/cli/node-red-process';

const STARS = '*'.repeat(65);

describe("npm start's console: Node-RED's safe-mode banner is left out", function () {
  it('drops the banner in any language, even when it arrives in pieces, and keeps everything around it', () => {
    const filter = withoutSafeModeBanner();
    const text = [
      '2 Dec 11:50:36 - [info] Server now running at http://127.0.0.1:1880/',
      `2 Dec 11:50:36 - [info] ${STARS}`,
      '2 Dec 11:50:36 - [info] Die Flows sind gestoppt im abgesicherten Modus. Übernahme (deploy) zum Starten.',
      `2 Dec 11:50:36 - [info] ${STARS}`,
      '2 Dec 11:50:37 - [info] Started flows',
      '',
    ].join('\n');
    // Cut the output into 7-character chunks, as a pipe may deliver it.
    let shown = '';
    for (let i = 0; i < text.length; i += 7) shown += filter(text.slice(i, i + 7));
    assert.equal(shown, '2 Dec 11:50:36 - [info] Server now running at http://127.0.0.1:1880/\n2 Dec 11:50:37 - [info] Started flows\n');
  });

  it('never hides a warning or an error, even after a lone row of asterisks', () => {
    const filter = withoutSafeModeBanner();
    const shown = filter(`x - [info] ${STARS}\nx - [warn] port in use\nx - [error] something failed\n`);
    assert.equal(shown, 'x - [warn] port in use\nx - [error] something failed\n');
  });
});
