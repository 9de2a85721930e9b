import { Logger, type INestApplication } from '@nestjs/common';
import type { AddressInfo } from 'node:net';

/**
 * Logs that the service is up and on which port; when started by the demo or the tests (an IPC channel exists),
 * also tells them. The channel is unref'd so it never keeps the process alive on its own.
 */
export function announceReady(app: INestApplication, service: string): void {
  const { port } = app.getHttpServer().address() as AddressInfo;
  new Logger('Main').log(`ready: HTTP on :${port}`);
  if (process.send) {
    process.send({ type: 'ready', service, port });
    process.channel?.unref();
  }
}
