import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { InstrumentError, socketError } from '../../src/protocols/common/errors';
import { errorText, localizedError, lookup, sharedText } from '../../src/nodered/i18n';
import type { RedAPI } from '../../src/nodered/red-types';
import { connectionDot, errorStatusText, shortText } from '../../src/nodered/status';
import { refusedError } from '../../src/protocols/bpwin/client';
import { httpJson } from '../../src/protocols/common/http-json';
import { computeChecksum, prepareImage } from '../../src/protocols/propeller/image';
import { makeBinary } from '../propeller-serial/image-fixtures';
import { setRuntimeLanguage, translatorFor } from '../helpers/red';

/** RED as a node of `type` has it: only RED._ is used by the text functions. */
async function redFor(type = 'bpwin-request'): Promise<RedAPI> {
  return { _: await translatorFor(type) } as unknown as RedAPI;
}

/** The error `work` throws. */
function refusal(work: () => unknown): Error {
  try {
    work();
  } catch (err) {
    return err as Error;
  }
  return assert.fail('expected a refusal');
}

const refused = (): Error => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });

describe('runtime texts through the catalogs', () => {
  afterEach(() => setRuntimeLanguage('en-US'));

  describe('shortText', () => {
    it('keeps a short text and cuts a long one at a word boundary, within the limit', () => {
      assert.equal(shortText('  connection\n refused '), 'connection refused');
      const cut = shortText('neoEBV refused pynebv.test: Method not found (-32601)');
      assert.equal(cut, 'neoEBV refused pynebv.test…');
      assert.ok(cut.length <= 32);
      for (let n = 10; n < 80; n += 7) assert.ok(shortText('word '.repeat(n)).length <= 32);
    });

    it('cuts inside a word only when one word fills the status (a long URL)', () => {
      const cut = shortText('ws://a-very-long-host-name.example.org:6009/ws refused');
      assert.equal(cut.length, 32);
      assert.ok(cut.startsWith('ws://a-very-long-host-name'));
    });
  });

  describe('errors with a reason', () => {
    it('read from the catalog in the runtime language, English as the code wrote it otherwise', async () => {
      const RED = await redFor();
      const err = refusedError();
      assert.equal(errorText(RED, err), err.message, 'the en-US entry says what the code says');
      await setRuntimeLanguage('de');
      assert.match(errorText(RED, err), /^BPWin hat die Passphrase abgelehnt \(HTTP 403\)/);
      const unknown = new InstrumentError('REMOTE', 'something new', { reason: 'noSuchReasonInTheCatalog' });
      assert.equal(errorText(RED, unknown), 'something new', 'a reason without an entry falls back to the message');
      const noDetail = new InstrumentError('BAD_INPUT', 'the BPWin port must be 1-65535 (got x)', { reason: 'bpwinPortRange' });
      assert.equal(errorText(RED, noDetail), noDetail.message, 'a missing value falls back rather than showing __port__');
    });

    it('fill every placeholder from the details: a detail that is a list, or named otherwise than the sentence, left it English', async () => {
      const RED = await redFor();
      const image = makeBinary();
      image[4] = 0x07; // PLL16X from XINPUT without PLLENA and OSCENA: the missing bits were a list
      image[5] = computeChecksum(image);
      const clock = refusal(() => prepareImage(image));
      const server = http.createServer((_req, res) => res.end('['.repeat(70) + ']'.repeat(70)));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      // "GET <url>" is where the sentence says it happened, not the bare URL.
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/deep`;
      const deep = await httpJson({ method: 'GET', url }).then(
        () => assert.fail('a reply nested 70 deep is refused'),
        (err: unknown) => err,
      );
      server.close();
      for (const err of [clock, deep]) assert.equal(errorText(RED, err), (err as Error).message, 'the en-US entry says what the code says');
      await setRuntimeLanguage('de');
      assert.match(errorText(RED, clock), /^Ungültiges Propeller-Abbild .*lässt aber PLLENA \(bit 6\) and OSCENA \(bit 5\) ausgeschaltet/);
      assert.equal(errorText(RED, deep), `GET ${url}: die Antwort ist mehr als 64 Ebenen tief verschachtelt und wurde abgelehnt`);
    });

    it('say the cause in the same language ("<where>: <socket failure>")', async () => {
      const RED = await redFor();
      const err = socketError('CONNECT_FAILED', 'BPWin GET /version', refused());
      assert.equal(errorText(RED, err), 'BPWin GET /version: connection refused (is the instrument or simulator running, and is the port right?)');
      assert.equal(errorText(RED, err), err.message);
      await setRuntimeLanguage('de');
      assert.equal(errorText(RED, err), 'BPWin GET /version: Verbindung abgelehnt (läuft das Gerät oder der Simulator, und stimmt der Port?)');
    });

    it('show their short form on a status, or their cause’s, else the sentence cut at a word', async () => {
      const RED = await redFor();
      assert.equal(errorStatusText(RED, refusedError()), 'passphrase refused');
      assert.equal(errorStatusText(RED, socketError('CONNECT_FAILED', 'sf-daq get_pvlist (GET http://x)', refused())), 'connection refused');
      assert.equal(errorStatusText(RED, new Error('pgroup is required for retrieve_from_buffers')), 'pgroup is required for…');
      await setRuntimeLanguage('de');
      assert.equal(errorStatusText(RED, refusedError()), 'Passphrase abgelehnt');
    });

    it('reach a Catch node localized, with code, details and the original kept', async () => {
      const RED = await redFor();
      const err = refusedError();
      assert.equal(localizedError(RED, err), err, 'nothing to change in English');
      await setRuntimeLanguage('de');
      const german = localizedError(RED, err) as InstrumentError;
      assert.ok(german instanceof InstrumentError);
      assert.match(german.message, /^BPWin hat die Passphrase abgelehnt/);
      assert.equal(german.code, 'AUTH_FAILED');
      assert.deepEqual(german.details, err.details);
      assert.equal(german.cause, err);
      const plain = new Error('no reason here');
      assert.equal(localizedError(RED, plain), plain);
    });
  });

  describe('status texts', () => {
    it('use Node-RED’s own words for connection states, the package’s for the rest, in both languages', async () => {
      const RED = await redFor('nebv-server');
      assert.equal(connectionDot(RED, { state: 'connected' }).text, 'connected');
      assert.equal(connectionDot(RED, { state: 'reconnecting', retryInMs: 2600 }).text, 'reconnecting in 3 s');
      assert.equal(sharedText(RED, 'status.notConfigured'), 'not configured');
      await setRuntimeLanguage('de');
      assert.equal(connectionDot(RED, { state: 'connected' }).text, 'Verbunden');
      assert.equal(connectionDot(RED, { state: 'connecting' }).text, 'Verbindung wird hergestellt');
      assert.equal(connectionDot(RED, { state: 'reconnecting', retryInMs: 2600 }).text, 'neuer Versuch in 3 s');
      assert.equal(sharedText(RED, 'status.notConfigured'), 'nicht konfiguriert');
      const failed = connectionDot(RED, { state: 'failed', error: 'x', failure: refusedError() });
      assert.deepEqual(failed, { fill: 'red', shape: 'dot', text: 'Passphrase abgelehnt' });
    });

    it('report a missing catalog entry as missing instead of showing its key', async () => {
      const RED = await redFor();
      assert.equal(lookup(RED, 'bpwin-request.no.such.key'), undefined);
      assert.equal(lookup(RED, 'bpwin-request.status.none'), undefined);
      assert.equal(lookup(RED, 'bpwin-request.errors.http'), undefined, 'its __status__ has no value');
      assert.equal(lookup(RED, 'bpwin-request.errors.http', { status: 500 }), 'HTTP 500');
    });
  });
});
