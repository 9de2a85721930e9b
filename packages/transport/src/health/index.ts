/**
 * The Terminus health indicator (needs `@nestjs/terminus`).
 *
 * @packageDocumentation
 * @module @nestream/transport/health
 */
export { RedisStreamsHealthIndicator, type RedisStreamsHealthOptions } from './redis-streams.health-indicator.js';
