import { Option, type Command } from 'commander';
import { statusRates, type StreamRates, type StreamsAdmin, type StreamsStatus } from '@nestream/transport/admin';
import type { GlobalOptions, Target } from '../connection.js';
import { formatDuration, parseDuration } from '../format/duration.js';
import { formatRate } from '../format/numbers.js';
import { renderTable, type Column } from '../format/table.js';
import { note, printJson, printLines } from '../output.js';
import { toCliError, withAdmin } from '../session.js';

interface StatusOptions {
  json?: boolean;
  watch?: boolean;
  interval: number;
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('streams (length), consumer groups (lag, pending, consumers) and dead-letter streams (size)')
    .argument('[streams...]', 'only these streams (default: every stream under the key prefix)')
    .option('--json', 'print JSON (with --watch: one document per refresh, one per line)')
    .option('--watch', 'refresh until interrupted (Ctrl-C), with rates: events/s in per stream, out per group')
    .addOption(new Option('--interval <duration>', 'time between refreshes with --watch').argParser(parseDuration).default(2000, '2s'))
    .action(async (streams: string[], opts: StatusOptions, command: Command) => {
      const global = command.optsWithGlobals<GlobalOptions>();
      if (!opts.watch) {
        await withAdmin(global, async (admin, target) => printStatus(await admin.status(streams), null, target, opts));
        return;
      }
      // Watching survives Redis going away: each failed refresh prints why, and ioredis keeps reconnecting.
      await withAdmin(global, (admin, target) => watch(admin, target, streams, opts), { retryStrategy: times => Math.min(times * 500, 2000) });
    });
}

async function watch(admin: StreamsAdmin, target: Target, streams: string[], opts: StatusOptions): Promise<void> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  const clear = process.stdout.isTTY && !opts.json;
  let previous: StreamsStatus | null = null;
  try {
    while (!stop.signal.aborted) {
      try {
        const status = await admin.status(streams);
        if (clear) process.stdout.write('\x1b[2J\x1b[H');
        else if (previous && !opts.json) process.stdout.write('\n');
        if (!opts.json) printLines([`${target.description}  ${status.at}  (every ${formatDuration(opts.interval)}, Ctrl-C to stop)`]);
        printStatus(status, previous ? statusRates(previous, status) : {}, target, opts);
        previous = status;
      } catch (err) {
        note(`error: ${toCliError(err, target).message} (retrying)`);
      }
      await sleep(opts.interval, stop.signal);
    }
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
}

/** `rates` null: not watching (no rate columns); `{}`: watching, no rates yet (first refresh). */
function printStatus(status: StreamsStatus, rates: Record<string, StreamRates> | null, target: Target, opts: StatusOptions): void {
  if (opts.json) {
    printJson('status', statusJson(status, rates ?? {}, target));
    return;
  }
  const watching = rates !== null;
  const columns: Column[] = [
    { header: 'STREAM / GROUP / CONSUMER' },
    { header: 'LENGTH', right: true },
    { header: 'DEAD LETTERS', right: true },
    { header: 'LAG', right: true },
    { header: 'PENDING', right: true },
    { header: 'CONSUMERS', right: true },
    ...(watching ? [{ header: 'IN/s', right: true }, { header: 'OUT/s', right: true }] : []),
    { header: 'IDLE' },
  ];
  const rows: string[][] = [];
  const rate = (cells: string[]) => (watching ? cells : []);
  for (const stream of status.streams) {
    const r = rates?.[stream.key];
    rows.push([stream.name, String(stream.length), stream.deadLetter ? String(stream.deadLetter.length) : '', '', '', '', ...rate([formatRate(r?.inPerSec ?? null), '']), '']);
    for (const group of stream.groups) {
      const out = r?.groups[group.name]?.outPerSec ?? null;
      rows.push([`  ${group.name}`, '', '', group.lag === null ? '?' : String(group.lag), String(group.pending), String(group.consumers.length), ...rate(['', formatRate(out)]), '']);
      for (const consumer of group.consumers) {
        rows.push([`    ${consumer.name}`, '', '', '', String(consumer.pending), '', ...rate(['', '']), formatDuration(consumer.idleMs)]);
      }
    }
  }
  const where = status.keyPrefix ? `under key prefix "${status.keyPrefix}" at ${target.description}` : `at ${target.description}`;
  const lines = status.streams.length > 0 ? renderTable(columns, rows) : [`No streams ${where}.`];
  if (status.replyStreams > 0) lines.push(`(${status.replyStreams} reply stream${status.replyStreams === 1 ? '' : 's'} of request-reply clients not shown)`);
  for (const stream of status.streams) {
    const dl = stream.deadLetter;
    if (dl && dl.length > 0) lines.push(`${dl.length} dead letter${dl.length === 1 ? '' : 's'} in ${dl.key}: nestream dlq list ${stream.name}`);
  }
  printLines(lines);
}

/** The `status` JSON document (schema in docs/reference/cli.md): the StreamsAdmin status, plus rates. */
function statusJson(status: StreamsStatus, rates: Record<string, StreamRates>, target: Target): object {
  return {
    redis: target.description,
    at: status.at,
    keyPrefix: status.keyPrefix,
    streams: status.streams.map(s => ({
      name: s.name,
      key: s.key,
      length: s.length,
      lastId: s.lastId,
      entriesAdded: s.entriesAdded,
      inPerSec: rates[s.key]?.inPerSec ?? null,
      groups: s.groups.map(g => ({
        name: g.name,
        pending: g.pending,
        lag: g.lag,
        entriesRead: g.entriesRead,
        lastDeliveredId: g.lastDeliveredId,
        oldestPendingId: g.oldestPendingId,
        outPerSec: rates[s.key]?.groups[g.name]?.outPerSec ?? null,
        consumers: g.consumers.map(c => ({ name: c.name, pending: c.pending, idleMs: c.idleMs })),
      })),
      deadLetter: s.deadLetter,
      retainedFrom: s.retainedFrom,
    })),
    replyStreams: status.replyStreams,
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise(resolve => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
