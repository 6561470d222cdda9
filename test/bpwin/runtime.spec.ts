import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assembleDemoFlows, listExamples } from '../../src/cli/example-flows';
import { freePort, getJson, prepareUserDir, requestJson, startNodeRed, type NodeRedProcess } from '../../src/cli/node-red-process';
import { BpwinSimulator, runningSimulator } from '../../src/simulators/bpwin';
import { chromiumPath, launchChromium } from '../helpers/chromium';
import { waitFor } from '../helpers/red';

const root = path.resolve(__dirname, '..', '..');

describe('BPWin examples in a real Node-RED 4.1 with Dashboard 2', function () {
  this.timeout(120_000);
  let nodeRed: NodeRedProcess | undefined;
  let userDir: string;
  let sim: BpwinSimulator;

  before(async function () {
    execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs'), '--if-needed'], { stdio: 'ignore' });
    sim = new BpwinSimulator({ passphrase: 'runtime-pass', autorun: true, cycleMs: 50 });
    await sim.start();
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bpwin-runtime-'));
    prepareUserDir(userDir, root);
    nodeRed = await startNodeRed(userDir, await freePort(), { quiet: true });
  });

  after(async function () {
    await nodeRed?.stop();
    await sim?.close();
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('deploys all four examples against the simulator with no error, and serves the dashboard', async function () {
    const examples = listExamples(path.join(root, 'examples')).filter((e) => e.system === 'BPWin');
    const flows = assembleDemoFlows(examples, [runningSimulator(sim)]).map((node) =>
      // The CSV example writes relative to Node-RED's working directory; keep it in the temporary user directory.
      node.type === 'file' ? { ...node, filename: path.join(userDir, 'failures.csv') } : node,
    );
    const deployed = await requestJson('POST', `${nodeRed!.url}/flows`, flows, { 'Node-RED-Deployment-Type': 'full', 'Node-RED-API-Version': 'v1' });
    assert.ok(deployed.status < 300, `deploy answered HTTP ${deployed.status}: ${deployed.body}`);
    // Running for a while: jobs run, events stream, the dashboard gets data.
    await waitFor(() => sim.wsClients >= 1 && sim.hitCount('/data/job-stats') >= 3, 15_000, 'the flows talking to the simulator');
    await new Promise((r) => setTimeout(r, 1500));
    const output = nodeRed!.output();
    // Only what happened after our deploy.
    const afterDeploy = output.slice(output.lastIndexOf('Updated flows'));
    const problems = afterDeploy.split('\n').filter((line) => /\[(error|warn)\]/.test(line));
    assert.deepEqual(problems, [], output.slice(-3000));
    const nodes = JSON.parse((await getJson(`${nodeRed!.url}/nodes`, 10_000)).body) as Array<{ module: string; types: string[]; err?: string }>;
    const dashboard = nodes.filter((s) => s.module === '@flowfuse/node-red-dashboard');
    assert.ok(
      dashboard.some((s) => s.types.includes('ui-chart')),
      'the dashboard nodes are installed',
    );
    assert.deepEqual(
      dashboard.filter((s) => s.err),
      [],
    );
    const page = await getJson(`${nodeRed!.url}/dashboard/bpwin`, 10_000);
    assert.equal(page.status, 200);
    assert.ok(!output.includes('runtime-pass'), 'the passphrase is not logged');
    // The CSV gets its first row at the first failed socket, which the simulated job produces at random.
    const csv = path.join(userDir, 'failures.csv');
    await waitFor(() => fs.existsSync(csv) && fs.statSync(csv).size > 0, 20_000, 'the first socket failure in the CSV');
    assert.match(fs.readFileSync(csv, 'utf8'), /^time,site,socket,resultCode,description/);
  });

  it('shows the job on the dashboard page in a browser: light tower, names, pie and DPH chart', async function () {
    const executablePath = await chromiumPath();
    if (!executablePath) this.skip();
    const browser = await launchChromium(executablePath);
    try {
      const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      await page.goto(`${nodeRed!.url}/dashboard/bpwin`);
      // The simulator runs jobs by itself; within a few polls the tower and the texts are filled in.
      await page.getByText('4000 APS (H3911910180556)').waitFor({ timeout: 20_000 });
      await page.getByText('Winbond W25N01GVZEIG').waitFor({ timeout: 10_000 });
      await page
        .locator('.bp-state')
        .filter({ hasText: /Active|Paused|No job session/ })
        .waitFor({ timeout: 10_000 });
      assert.ok((await page.locator('.bp-lamp').count()) === 3, 'three lamps');
      await page.locator('canvas').nth(1).waitFor({ timeout: 10_000 });
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });
});
