// An embedded Postgres for the sample, in its own process (the demo starts it this way when DATABASE_URL is not
// set; any Postgres client can use it too):
//   node sample/dist/tools/embedded-postgres/main.js [--port 5433] [--data-dir ./pgdata]
// Prints `DATABASE_URL=postgres://...` once it accepts connections; SIGTERM or SIGINT stops it.
import { parseArgs } from 'node:util';
import { EmbeddedPostgres } from './embedded-postgres.js';

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' }, 'data-dir': { type: 'string' } } });
const postgres = await EmbeddedPostgres.start({ port: Number(values.port), dataDir: values['data-dir'] });
console.log(`DATABASE_URL=${postgres.url}`);
process.send?.({ type: 'ready', url: postgres.url });
process.channel?.unref();

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    postgres.stop().then(
      () => process.exit(0),
      err => {
        console.error(`embedded Postgres: stopping failed: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  });
}
