import { ConsoleLogger, type LogLevel } from '@nestjs/common';

/** Nest's start-up chatter: shown with LOG_LEVEL=debug only. */
const STARTUP_CONTEXTS = new Set(['NestFactory', 'InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestApplication', 'NestMicroservice']);

/**
 * Nest's ConsoleLogger with the service name as prefix, without the start-up lines, and without the
 * RpcExceptionsHandler's copy of each handler error (the transport logs the same error with what happens next:
 * retry or dead letter). LOG_LEVEL=debug shows everything.
 */
export class ServiceLogger extends ConsoleLogger {
  private readonly everything: boolean;

  constructor(service: string, level = process.env.LOG_LEVEL) {
    const everything = level === 'debug';
    const logLevels: LogLevel[] = everything ? ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'] : ['fatal', 'error', 'warn', 'log'];
    super({ prefix: service, logLevels, colors: false });
    this.everything = everything;
  }

  override log(message: unknown, ...rest: unknown[]): void {
    if (!this.everything && STARTUP_CONTEXTS.has(String(rest.at(-1)))) return;
    super.log(message, ...rest);
  }

  override error(message: unknown, ...rest: unknown[]): void {
    if (!this.everything && rest.at(-1) === 'RpcExceptionsHandler') return;
    super.error(message, ...rest);
  }
}
