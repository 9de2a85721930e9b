export { RedisStreamsHealthIndicator, type RedisStreamsHealthOptions } from './redis-streams.health-indicator.js';
