import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { RedisStreamsServer } from '@nestream/transport';
import { RedisStreamsHealthIndicator } from '@nestream/transport/health';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly streams: RedisStreamsHealthIndicator,
    private readonly server: RedisStreamsServer,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.streams.isHealthy('streams', this.server, { maxPending: 1000 })]);
  }
}
