#!/usr/bin/env node
import { loadSimulators } from '../simulators';
import type { RunningSimulator } from '../simulators/simulator';

/** `labwire-sim <system> [--port N] [--host H] [--option value …]` */
interface ParsedArgs {
  system: string | undefined;
  port: number | undefined;
  host: string | undefined;
  options: Record<string, string | boolean>;
  help: boolean;
}

export function parseArgs(argv: string[]): ParsedArgs {
  const parsed: ParsedArgs = { system: undefined, port: undefined, host: undefined, options: {}, help: false };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      parsed.help = true;
    } else if (arg.startsWith('--')) {
      const [rawName, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
      const nextArg = argv[i + 1];
      const value: string | boolean = inline ?? (nextArg !== undefined && !nextArg.startsWith('--') ? ((i += 1), nextArg) : true);
      if (rawName === 'port') {
        const port = Number(value);
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port needs a number from 0 to 65535, got "${String(value)}"`);
        parsed.port = port;
      } else if (rawName === 'host') {
        parsed.host = String(value);
      } else {
        parsed.options[rawName] = value;
      }
    } else if (parsed.system === undefined) {
      parsed.system = arg;
    } else {
      throw new Error(`unexpected argument "${arg}"`);
    }
  }
  return parsed;
}

function usage(): string {
  const lines = ['usage: labwire-sim <system> [--port N] [--host ADDRESS] [options]', '', 'systems:'];
  for (const sim of loadSimulators()) {
    lines.push(`  ${sim.name.padEnd(16)} ${sim.summary}`);
    for (const help of sim.optionHelp ?? []) lines.push(`  ${''.padEnd(16)}   ${help}`);
  }
  lines.push('', 'Listens on 127.0.0.1 unless --host is given. Ctrl-C stops it.');
  return lines.join('\n');
}

async function main(): Promise<void> {
  let args: ParsedArgs;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`labwire-sim: ${err instanceof Error ? err.message : String(err)}\n\n${usage()}`);
    process.exitCode = 2;
    return;
  }
  if (args.help || args.system === undefined) {
    console.log(usage());
    if (!args.help) process.exitCode = 2;
    return;
  }
  const definition = loadSimulators().find((sim) => sim.name === args.system);
  if (!definition) {
    console.error(`labwire-sim: no simulator named "${args.system}"\n\n${usage()}`);
    process.exitCode = 2;
    return;
  }
  let running: RunningSimulator;
  try {
    running = await definition.start({ host: args.host, port: args.port, options: args.options, log: (line) => console.log(line) });
  } catch (err) {
    console.error(`labwire-sim ${definition.name}: could not start: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
    return;
  }
  console.log(`${definition.name} simulator running:`);
  for (const endpoint of running.endpoints) console.log(`  ${endpoint}`);
  const stop = (): void => {
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) void main();
