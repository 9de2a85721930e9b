import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { RedisStreamsHealthIndicator } from '@nestream/transport/health';
import { HealthController } from './health.controller.js';
import { LifecycleLogger } from './lifecycle-logger.js';
import { MetricsController } from './metrics.controller.js';

/** `/health` and `/metrics` on the service's HTTP side, and a log line when the service has stopped. */
@Module({
  imports: [TerminusModule],
  controllers: [HealthController, MetricsController],
  providers: [RedisStreamsHealthIndicator, LifecycleLogger],
})
export class ObservabilityModule {}
