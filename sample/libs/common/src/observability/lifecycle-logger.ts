import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';

/** Logs the end of a graceful shutdown (after the transport drained its handlers and acked). */
@Injectable()
export class LifecycleLogger implements OnApplicationShutdown {
  private readonly logger = new Logger('Lifecycle');

  onApplicationShutdown(signal?: string): void {
    this.logger.log(`stopped${signal ? ` on ${signal}` : ''}`);
  }
}
