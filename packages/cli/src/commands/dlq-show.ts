import type { Command } from 'commander';
import type { GlobalOptions } from '../connection.js';
import { isoSeconds, oneLine, prettyData } from '../format/preview.js';
import { printJson, printLines } from '../output.js';
import { withAdmin } from '../session.js';
import { deadLetterJson } from './dead-letter-json.js';
import { errorText } from './dlq-list.js';

const PREVIEW_LINES = 40;
/** Fields shown on their own lines already. */
const WIRE_FIELDS = new Set(['data', 'cid', 'h', 'redrive.count', 'redrive.from']);

export function registerDlqShow(dlq: Command): void {
  dlq
    .command('show')
    .description('one dead letter: reason, attempts, time, error, headers and payload')
    .argument('<stream>', 'the source stream')
    .argument('<id>', 'the id in the dead-letter stream (from dlq list)')
    .option('--full', `the whole payload (default: the first ${PREVIEW_LINES} lines)`)
    .option('--json', 'print JSON')
    .action(async (stream: string, id: string, opts: { full?: boolean; json?: boolean }, command: Command) => {
      await withAdmin(command.optsWithGlobals<GlobalOptions>(), async admin => {
        const e = await admin.deadLetters.get(stream, id);
        if (opts.json) {
          printJson('dead-letter', { deadLetterKey: admin.deadLetterKey(stream), entry: deadLetterJson(e) });
          return;
        }
        const row = (label: string, value: string) => `  ${label.padEnd(12)} ${value}`.trimEnd();
        const lines = [
          `Dead letter ${e.id} in ${admin.deadLetterKey(stream)}`,
          row('source', `${e.stream} ${e.sourceId}`),
          row('reason', e.reason),
          row('attempts', String(e.attempts)),
          row('group', e.group),
          row('consumer', e.consumer),
          row('failed at', isoSeconds(e.failedAt)),
          row('error', oneLine(errorText(e), 200)),
        ];
        if (e.redrive) lines.push(row('redriven', `${e.redrive.count} time${e.redrive.count === 1 ? '' : 's'} before (last from ${e.redrive.from})`));
        if (e.message) {
          if (e.message.correlationId) lines.push(row('correlation', e.message.correlationId));
          if (Object.keys(e.message.headers).length > 0) lines.push(row('headers', oneLine(JSON.stringify(e.message.headers), 200)));
          const payload = prettyData(e.message.data, opts.full ? Number.MAX_SAFE_INTEGER : PREVIEW_LINES);
          lines.push(row('payload', payload[0]), ...payload.slice(1).map(l => `${' '.repeat(15)}${l}`));
        } else {
          lines.push(row('undecodable', e.decodeError ?? ''));
        }
        const other = Object.entries(e.fields).filter(([k]) => e.decodeError !== null || !WIRE_FIELDS.has(k));
        if (other.length > 0) lines.push(row(e.decodeError ? 'fields' : 'other fields', ''), ...other.map(([k, v]) => `    ${k} = ${oneLine(v, 200)}`));
        printLines(lines);
      });
    });
}
