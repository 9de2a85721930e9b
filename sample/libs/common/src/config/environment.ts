import { plainToInstance, Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Min, validateSync } from 'class-validator';

/**
 * The settings every service reads from its environment (ConfigModule). A service with settings of its own
 * extends this class; `validateEnvironment(Class)` is then ConfigModule's `validate` option, so a service with a
 * missing or malformed setting refuses to start and says which.
 */
export class ServiceEnvironment {
  /** Redis holding the streams, e.g. `redis://127.0.0.1:6379`. */
  @IsString()
  REDIS_URL!: string;

  /** Postgres, e.g. `postgres://user:password@127.0.0.1:5432/sample`. */
  @IsString()
  DATABASE_URL!: string;

  /** HTTP port (API, /health, /metrics); 0 picks a free one. @default 3000 */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  /**
   * Name of this instance in its consumer group. Keep it stable across restarts of the same instance: a restarted
   * consumer then takes back its own pending entries at once. @default `<group>-<hostname>-<pid>`
   */
  @IsOptional()
  @IsString()
  CONSUMER_NAME?: string;

  /** `debug` adds Nest's own start-up lines and stack traces. @default `log` */
  @IsOptional()
  @IsString()
  LOG_LEVEL?: string;
}

/** ConfigModule's `validate`: the environment as an instance of `Class`, or an error naming every bad setting. */
export function validateEnvironment<T extends object>(Class: new () => T): (raw: Record<string, unknown>) => T {
  return raw => {
    const env = plainToInstance(Class, raw, { enableImplicitConversion: false, exposeDefaultValues: true });
    const errors = validateSync(env, { skipMissingProperties: false, whitelist: false });
    if (errors.length > 0) {
      const lines = errors.map(e => `  ${e.property}: ${Object.values(e.constraints ?? {}).join(', ')}`);
      throw new Error(`Invalid environment:\n${lines.join('\n')}`);
    }
    return env;
  };
}
