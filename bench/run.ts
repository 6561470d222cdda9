/**
 * npm run bench: runs every bench/<system>.bench.ts in this one process, one after the other, and
 * prints each section's figures with ratios against the raw library and the Node-RED core nodes.
 * `npm run bench -- nebv sfdaq` runs only those.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { BenchRun, BenchSection } from './bench-types';

function format(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  return value.toPrecision(3);
}

function print(section: BenchSection, seconds: number): void {
  console.log(`\n## ${section.title}  (${seconds.toFixed(1)} s)`);
  const width = Math.max(...section.rows.map((r) => r.name.length), 10);
  for (const row of section.rows) {
    const ratio = row.ratio
      ? `  ${row.ratio.value.toFixed(2)}× vs ${row.ratio.against}${row.ratio.target ? ` (target ${row.ratio.target})` : ''}`
      : '';
    console.log(`  ${row.name.padEnd(width)}  ${format(row.value).padStart(12)} ${row.unit}${ratio}`);
  }
  for (const note of section.notes ?? []) console.log(`  note: ${note}`);
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const files = fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.bench.ts'))
    .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
    .sort();
  if (files.length === 0) {
    console.log('no benchmarks matched');
    return;
  }
  console.log(`# @labwire/node-red-instruments benchmarks — node ${process.version}, ${new Date().toISOString()}`);
  let failed = 0;
  for (const file of files) {
    const started = Date.now();
    try {
      const mod = require(path.join(__dirname, file)) as { run?: BenchRun };
      if (typeof mod.run !== 'function') throw new Error('exports no run()');
      print(await mod.run(), (Date.now() - started) / 1000);
    } catch (err) {
      failed += 1;
      console.error(`\n## ${file}: FAILED — ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
  }
  process.exitCode = failed ? 1 : 0;
  // Benchmarks start servers and runtimes; make sure none keeps the process alive.
  setTimeout(() => process.exit(process.exitCode ?? 0), 500).unref();
}

void main();
