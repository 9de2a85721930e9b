import { Controller, Get } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator, type HealthCheckResult, type HealthIndicatorFunction } from '@nestjs/terminus';
import { RedisStreamsServer } from '@nestream/transport';
import { RedisStreamsHealthIndicator } from '@nestream/transport/health';

/**
 * `GET /health`: 200 when Postgres answers and, in a service that consumes streams, when its RedisStreamsServer
 * is connected and reading (`@nestream/transport/health`); 503 with the failing part otherwise.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly streams: RedisStreamsHealthIndicator,
    private readonly moduleRef: ModuleRef,
  ) {}

  @Get()
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    const checks: HealthIndicatorFunction[] = [() => this.database.pingCheck('database', { timeout: 1000 })];
    const server = this.consumer();
    if (server) checks.push(() => this.streams.isHealthy('streams', server));
    return this.health.check(checks);
  }

  /** The app's RedisStreamsServer: a provider of the app's own module, in consumers only, so looked up rather than injected. */
  private consumer(): RedisStreamsServer | undefined {
    try {
      return this.moduleRef.get(RedisStreamsServer, { strict: false });
    } catch {
      return undefined;
    }
  }
}
