// The board in the sample's Compose file: what `nestream board` serves, on the sample's Redis. Inside the
// container it listens on every interface; the Compose file publishes it on the host's loopback only.
import { startStreamsBoard } from '@nestream/board/standalone';

const board = await startStreamsBoard({
  connection: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  host: '0.0.0.0',
  port: Number(process.env.PORT ?? 3000),
  basePath: '/',
  allowWrites: process.env.BOARD_ALLOW_WRITES === 'true',
});
console.log(`nestream board listening on port ${board.port} (${process.env.BOARD_ALLOW_WRITES === 'true' ? 'writes allowed' : 'read-only'})`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void board.close().then(() => process.exit(0)));
}
