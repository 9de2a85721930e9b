import type { Command } from 'commander';
import { CliError, usageError } from '../cli-error.js';
import { confirm } from '../confirm.js';
import type { GlobalOptions } from '../connection.js';
import { formatDuration, parseDuration } from '../format/duration.js';
import { printJson, printLines } from '../output.js';
import { withAdmin } from '../session.js';

interface PurgeCliOptions {
  olderThan?: number;
  reason?: string;
  yes?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

export function registerDlqPurge(dlq: Command): void {
  dlq
    .command('purge')
    .description('delete dead letters for good (asks first on a terminal; --yes otherwise)')
    .argument('<stream>', 'the source stream')
    .option('--older-than <duration>', 'only those dead-lettered longer ago than this (7d, 12h, 30m)', parseDuration)
    .option('--reason <reason>', 'only those with this dlq.reason')
    .option('--yes', 'do not ask (required when stdin is not a terminal)')
    .option('--dry-run', 'count what would be deleted, delete nothing')
    .option('--json', 'print JSON')
    .action(async (stream: string, opts: PurgeCliOptions, command: Command) => {
      const interactive = process.stdin.isTTY === true;
      if (!opts.yes && !opts.dryRun && !interactive) throw usageError('dlq purge deletes for good: pass --yes to confirm (stdin is not a terminal to ask on)');
      await withAdmin(command.optsWithGlobals<GlobalOptions>(), async admin => {
        const filter = { olderThanMs: opts.olderThan, reason: opts.reason };
        const counted = await admin.deadLetters.count(stream, filter);
        const what = `${counted.count} dead letter${counted.count === 1 ? '' : 's'}${describe(opts)} in ${counted.deadLetterKey}`;
        if (opts.dryRun || counted.count === 0 || counted.upTo === null) {
          if (opts.json) printJson('purge', { stream, deadLetterKey: counted.deadLetterKey, dryRun: !!opts.dryRun, matched: counted.count, deleted: 0 });
          else printLines([counted.count === 0 ? `Nothing to purge: no dead letters${describe(opts)} in ${counted.deadLetterKey}.` : `Dry run: would delete ${what}.`]);
          return;
        }
        if (!opts.yes && !(await confirm(`Delete ${what} for good? [y/N] `))) throw new CliError('aborted: nothing deleted');
        // Up to what was counted: dead letters arriving while the operator read the question stay.
        const result = await admin.deadLetters.purge(stream, { ...filter, upTo: counted.upTo });
        if (opts.json) printJson('purge', { stream, deadLetterKey: result.deadLetterKey, dryRun: false, matched: counted.count, deleted: result.deleted });
        else printLines([`Deleted ${result.deleted} dead letter${result.deleted === 1 ? '' : 's'} from ${result.deadLetterKey}.`]);
      });
    });
}

function describe(opts: PurgeCliOptions): string {
  const parts = [];
  if (opts.reason) parts.push(`with reason ${opts.reason}`);
  if (opts.olderThan !== undefined) parts.push(`older than ${formatDuration(opts.olderThan)}`);
  return parts.length > 0 ? ` ${parts.join(' and ')}` : '';
}
