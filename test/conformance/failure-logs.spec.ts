import 'reflect-metadata';
import { ConsoleLogger, Controller, Module, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, MessagePattern } from '@nestjs/microservices';
import { RedisStreamsServer } from '@nestream/transport';
import { lastValueFrom } from 'rxjs';
import { useRedis } from '../harness/fixture.js';
import { uniqueName, waitFor } from '../harness/wait.js';

const fx = useRedis();

/**
 * Nest's own console logger at its default levels (log, error, warn, debug, verbose, fatal: debug included),
 * recording what it would print instead of printing it.
 */
class RecordingConsoleLogger extends ConsoleLogger {
  readonly printed: Array<{ level: LogLevel; context?: string; text: string }> = [];
  protected override printMessages(messages: unknown[], context?: string, logLevel: LogLevel = 'log'): void {
    for (const m of messages) this.printed.push({ level: logLevel, context, text: m instanceof Error ? `${m.message}\n${m.stack}` : String(m) });
  }
  mentioning(text: string) {
    return this.printed.filter(p => p.text.includes(text));
  }
}

async function start(controller: new () => unknown, logger: RecordingConsoleLogger) {
  @Module({ controllers: [controller] })
  class LogModule {}
  const server = new RedisStreamsServer({
    connection: fx.redis.url, group: 'g', retry: { maxAttempts: 2, backoff: { type: 'fixed', delayMs: 50, jitter: 0 } },
  });
  const app = await NestFactory.createMicroservice(LogModule, { strategy: server, logger });
  await app.listen();
  return { app, close: () => app.close() };
}

describe('failure logs', () => {
  it('prints one line per failed attempt of an event handler at the default log levels (none from Nest\'s exception handler)', async () => {
    const pattern = uniqueName('log-once');
    const marker = `boom-${pattern}`;
    @Controller()
    class Failing {
      @EventPattern(pattern)
      handle() {
        throw new Error(marker);
      }
    }
    const logger = new RecordingConsoleLogger();
    const app = await start(Failing, logger);
    fx.apps.push(app);
    await lastValueFrom(fx.client().emit(pattern, { n: 1 }));
    await waitFor(async () => (await fx.deadLetters(pattern)).length === 1, 'the entry dead-lettered after 2 attempts');
    const attempts = logger.mentioning(marker).filter(l => l.text.includes('failed on entry'));
    // Attempt 1: a warning (retry); attempt 2: an error (dead letter, with the stack).
    expect(attempts.map(l => l.level)).toEqual(['warn', 'error']);
    // Besides them, only the dead-letter move's own line (where the entry went) names the error.
    expect(logger.mentioning(marker).filter(l => !attempts.includes(l)).map(l => l.text)).toEqual([expect.stringMatching(/^Dead-lettered entry/)]);
    expect(logger.mentioning(marker).every(l => l.context === 'RedisStreamsServer')).toBe(true);
    expect(logger.printed.filter(p => p.context === 'RpcExceptionsHandler')).toEqual([]);
  });

  it('and one per failed attempt of a request handler', async () => {
    const pattern = uniqueName('log-once-request');
    const marker = `boom-${pattern}`;
    @Controller()
    class Failing {
      @MessagePattern(pattern)
      handle() {
        throw new Error(marker);
      }
    }
    const logger = new RecordingConsoleLogger();
    fx.apps.push(await start(Failing, logger));
    await expect(lastValueFrom(fx.client().send(pattern, {}))).rejects.toBeDefined();
    await waitFor(() => logger.mentioning(marker).length > 0, 'the failure logged');
    // Requests are not retried by default: one attempt, one line.
    expect(logger.mentioning(marker).filter(l => l.text.includes('failed on entry')).map(l => l.level)).toEqual(['error']);
    expect(logger.mentioning(marker).every(l => l.context === 'RedisStreamsServer')).toBe(true);
    expect(logger.printed.filter(p => p.context === 'RpcExceptionsHandler')).toEqual([]);
  });
});
