import type { Command } from 'commander';
import type { TailEntry } from '@nestream/transport/admin';
import type { GlobalOptions } from '../connection.js';
import { parsePositiveInt } from '../format/numbers.js';
import { oneLine, previewData } from '../format/preview.js';
import { note, printJson, printLines } from '../output.js';
import { withAdmin } from '../session.js';

export function registerTail(program: Command): void {
  program
    .command('tail')
    .description('follow new entries live, decoded (XREAD: no consumer group joined, nothing acked)')
    .argument('<streams...>', 'the streams')
    .option('--count <n>', 'stop after this many entries', parsePositiveInt)
    .option('--json', 'print one JSON document per entry (one per line)')
    .action(async (streams: string[], opts: { count?: number; json?: boolean }, command: Command) => {
      await withAdmin(command.optsWithGlobals<GlobalOptions>(), async admin => {
        const stop = new AbortController();
        const onSignal = () => stop.abort();
        process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
        let seen = 0;
        try {
          // Said once every entry added from now on will show (scripts and tests can wait for this line).
          const onStart = () => note(`following ${streams.join(', ')} (Ctrl-C to stop)`);
          for await (const entry of admin.tail(streams, { signal: stop.signal, onStart })) {
            if (opts.json) printJson('entry', entryJson(entry));
            else printLines([entryLine(entry)]);
            if (opts.count !== undefined && ++seen >= opts.count) break;
          }
        } finally {
          process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
        }
      });
    });
}

function entryLine(e: TailEntry): string {
  const time = new Date(Number(e.id.split('-')[0])).toISOString();
  if (!e.message) {
    const raw = Object.entries(e.fields).map(([k, v]) => `${k}=${v}`).join(' ');
    return `${time}  ${e.stream}  ${e.id}  undecodable (${e.decodeError}): ${oneLine(raw, 200)}`;
  }
  const extra = [
    e.message.correlationId ? `cid=${e.message.correlationId}` : '',
    Object.keys(e.message.headers).length > 0 ? `headers=${oneLine(JSON.stringify(e.message.headers), 200)}` : '',
    e.message.replyTo ? `replyTo=${e.message.replyTo}` : '',
  ].filter(Boolean);
  return [`${time}  ${e.stream}  ${e.id}  ${previewData(e.message.data, 200)}`, ...extra].join('  ');
}

/** An entry in `tail --json` (schema in docs/reference/cli.md). */
function entryJson(e: TailEntry): object {
  return {
    stream: e.stream,
    key: e.key,
    id: e.id,
    time: new Date(Number(e.id.split('-')[0])).toISOString(),
    data: e.message ? e.message.data : null,
    correlationId: e.message?.correlationId ?? null,
    headers: e.message?.headers ?? null,
    decodeError: e.decodeError,
    fields: e.fields,
  };
}
