import type { Command } from 'commander';
import type { ConsumerStatus } from '@nestream/transport/admin';
import type { GlobalOptions } from '../connection.js';
import { formatDuration, parseDuration } from '../format/duration.js';
import { renderTable } from '../format/table.js';
import { printJson, printLines } from '../output.js';
import { withAdmin } from '../session.js';

export function registerConsumersPrune(consumers: Command): void {
  consumers
    .command('prune')
    .description('remove consumers idle for at least --idle that have no pending entries (one with pending entries is never removed)')
    .argument('<stream>', 'the stream')
    .argument('<group>', 'the consumer group')
    .requiredOption('--idle <duration>', 'idle at least this long (1h, 30m, 2d)', parseDuration)
    .option('--dry-run', 'show what would be removed, remove nothing')
    .option('--json', 'print JSON')
    .action(async (stream: string, group: string, opts: { idle: number; dryRun?: boolean; json?: boolean }, command: Command) => {
      await withAdmin(command.optsWithGlobals<GlobalOptions>(), async admin => {
        const result = await admin.pruneConsumers(stream, group, { idleMs: opts.idle, dryRun: opts.dryRun });
        if (opts.json) {
          printJson('prune', { ...result, idleMs: opts.idle });
          return;
        }
        const rows = [
          ...result.removed.map(c => [result.dryRun ? 'would remove' : 'removed', ...cells(c)]),
          ...result.keptWithPending.map(c => ['kept', ...cells(c)]),
        ];
        const lines = rows.length > 0 ? renderTable([{ header: '' }, { header: 'CONSUMER' }, { header: 'PENDING', right: true }, { header: 'IDLE' }], rows) : [];
        const verb = result.dryRun ? 'would be removed' : 'removed';
        lines.push(`Group ${group} of ${stream}: ${result.removed.length} ${verb}, ${result.keptWithPending.length} kept, ${result.active} idle less than ${formatDuration(opts.idle)}.`);
        if (result.keptWithPending.length > 0) {
          lines.push('Consumers with pending entries are never removed (their entries would be lost): let them be claimed or acked first.');
        }
        printLines(lines);
      });
    });
}

function cells(c: ConsumerStatus): string[] {
  return [c.name, String(c.pending), formatDuration(c.idleMs)];
}
