/**
 * How the registry commands print: human-readable tables by default
 * (cli-table3, no colours), the API's JSON with --json, and the options every
 * registry command shares (--server, --json).
 */
import { Command, InvalidArgumentError } from 'commander';
import Table from 'cli-table3';
import { ApiClient, DEFAULT_SERVER, SERVER_ENV } from './api_client.js';

export interface ClientFlags {
  server: string;
  json?: boolean;
}

/** Adds --server and --json to a registry command. */
export function clientCommand(program: Command, name: string, description: string): Command {
  return program
    .command(name)
    .description(description)
    .option('--server <url>', `modelhost server to talk to (default $${SERVER_ENV} or ${DEFAULT_SERVER})`, process.env[SERVER_ENV] || DEFAULT_SERVER)
    .option('--json', 'print the API response as JSON, for scripts');
}

export const clientFor = (flags: ClientFlags) => new ApiClient(flags.server);

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printTable(head: string[], rows: (string | number)[][]): void {
  const table = new Table({
    head,
    style: { head: [], border: [], compact: true },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const row of rows) table.push(row.map((c) => String(c)));
  process.stdout.write(`${table.toString()}\n`);
}

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '-';
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = -1;
  do {
    v /= 1000;
    i++;
  } while (v >= 1000 && i < units.length - 1);
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** "2026-11-25 15:01:04" from an ISO time. */
export function formatTime(iso: string | null | undefined): string {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-';
}

/** A version number given on the command line. */
export function versionArg(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`expected a version number, got "${value}".`);
  return Number(value);
}
