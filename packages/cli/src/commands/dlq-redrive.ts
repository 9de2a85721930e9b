import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import type { RedriveProgress, RedriveResult } from '@nestream/transport/admin';
import { usageError } from '../cli-error.js';
import type { GlobalOptions } from '../connection.js';
import { parsePositiveInt } from '../format/numbers.js';
import { note, printJson, printLines } from '../output.js';
import { withAdmin } from '../session.js';

interface RedriveCliOptions {
  ids?: string[];
  all?: boolean;
  reason?: string;
  dryRun?: boolean;
  force?: boolean;
  chunkSize: number;
  json?: boolean;
}

const LISTED_AT_MOST = 20;

export function registerDlqRedrive(dlq: Command): void {
  dlq
    .command('redrive')
    .description('put dead letters back on their source stream (original fields, a new id, redrive.count and redrive.from), each atomically with its removal from the dead-letter stream')
    .argument('<stream>', 'the source stream')
    .option('--ids <ids...>', 'these dead letters (ids from dlq list)')
    .option('--all', 'every dead letter of the stream (up to the newest when the redrive starts)')
    .option('--reason <reason>', 'only dead letters with this dlq.reason')
    .option('--dry-run', 'show what would be redriven, change nothing')
    .option('--force', 'redrive even if the stream has no consumer group')
    .option('--chunk-size <n>', 'dead letters per atomic step', parsePositiveInt, 100)
    .option('--json', 'print JSON')
    .action(async (stream: string, opts: RedriveCliOptions, command: Command) => {
      if (!opts.ids === !opts.all) throw usageError('dlq redrive needs either --ids <id...> or --all');
      await withAdmin(command.optsWithGlobals<GlobalOptions>(), async admin => {
        const bar = progressBar(!opts.json && !opts.dryRun);
        try {
          const result = await admin.deadLetters.redrive(stream, {
            ids: opts.ids,
            all: opts.all,
            reason: opts.reason,
            dryRun: opts.dryRun,
            force: opts.force,
            chunkSize: opts.chunkSize,
            onProgress: bar?.update,
          });
          bar?.stop();
          report(result, opts);
        } finally {
          bar?.stop();
        }
      });
    });
}

function report(result: RedriveResult, opts: RedriveCliOptions): void {
  if (result.groups.length > 1) {
    note(`warning: ${result.stream} is read by ${result.groups.length} groups (${result.groups.join(', ')}): each of them gets the redriven entries, not only the group that dead-lettered them`);
  }
  if (opts.json) {
    const { stream, key, deadLetterKey, dryRun, moved, notFound, skipped, truncated, tooWide, groups } = result;
    printJson('redrive', { stream, key, deadLetterKey, dryRun, groups, moved, notFound, skipped, truncated, tooWide });
    return;
  }
  const n = result.moved.length;
  const what = `${n} dead letter${n === 1 ? '' : 's'}`;
  const lines = [
    result.dryRun
      ? `Dry run: would move ${what} from ${result.deadLetterKey} back to ${result.key}.`
      : `Moved ${what} from ${result.deadLetterKey} back to ${result.key}${groups(result)}.`,
  ];
  for (const m of result.moved.slice(0, LISTED_AT_MOST)) lines.push(result.dryRun ? `  ${m.deadLetterId}` : `  ${m.deadLetterId} -> ${m.id}`);
  if (n > LISTED_AT_MOST) lines.push(`  … and ${n - LISTED_AT_MOST} more (--json lists all)`);
  if (result.notFound.length > 0) {
    lines.push(`${result.notFound.length} not in ${result.deadLetterKey} (already redriven or purged): ${result.notFound.slice(0, LISTED_AT_MOST).join(' ')}`);
  }
  if (result.truncated.length > 0) {
    lines.push(
      `${result.truncated.length} left in ${result.deadLetterKey}: dead letters of oversized entries keep only a prefix of their payload and cannot be redriven: ${result.truncated.slice(0, LISTED_AT_MOST).join(' ')}`,
    );
  }
  if (result.tooWide.length > 0) {
    lines.push(
      `${result.tooWide.length} left in ${result.deadLetterKey}: entries of more fields than a redrive script can re-add (about 3,500); dlq get shows them: ${result.tooWide.slice(0, LISTED_AT_MOST).join(' ')}`,
    );
  }
  if (result.skipped > 0) {
    lines.push(`${result.skipped} left in ${result.deadLetterKey}: ${opts.reason ? `another reason than ${opts.reason}, or ` : ''}from another source stream`);
  }
  printLines(lines);
}

function groups(result: RedriveResult): string {
  return result.groups.length > 0 ? ` (group${result.groups.length === 1 ? '' : 's'} ${result.groups.join(', ')})` : ' (no consumer group reads it)';
}

/** A progress bar on stderr, when a person is watching. */
function progressBar(wanted: boolean): { update: (p: RedriveProgress) => void; stop: () => void } | undefined {
  if (!wanted || !process.stderr.isTTY) return undefined;
  const bar = new cliProgress.SingleBar(
    { format: 'redrive [{bar}] {value}/{total} examined, {moved} moved', stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let stopped = false;
  return {
    update: p => {
      if (!started) bar.start(p.total, 0, { moved: 0 });
      started = true;
      bar.update(p.examined, { moved: p.moved });
    },
    stop: () => {
      if (started && !stopped) bar.stop();
      stopped = true;
    },
  };
}
