import type { ConfigService } from '@nestjs/config';
import type { TypeOrmModuleOptions } from '@nestjs/typeorm';

export interface ServiceDatabase {
  /** The Postgres schema this service owns; its tables and its `migrations` table live there. */
  schema: string;
}

/**
 * TypeORM options of a service: Postgres from DATABASE_URL, one schema per service, schema changes by migrations
 * only (`synchronize: false`; the migrations run before the services start, see tools/migrate.ts). Entities are
 * those registered with `TypeOrmModule.forFeature([...])` (`autoLoadEntities`).
 *
 *   TypeOrmModule.forRootAsync({ inject: [ConfigService], useFactory: (c: ConfigService) => postgresOptions(c, { schema: 'mailer' }) })
 */
export function postgresOptions(config: ConfigService, { schema }: ServiceDatabase): TypeOrmModuleOptions {
  return {
    type: 'postgres',
    url: config.getOrThrow<string>('DATABASE_URL'),
    schema,
    autoLoadEntities: true,
    synchronize: false,
    migrationsRun: false,
    // A few connections per process: the sample runs up to 7 processes against one server.
    extra: { max: 4, application_name: schema },
    // Start-up fails fast instead of TypeORM's default of 9 retries 3 s apart.
    retryAttempts: 3,
    retryDelay: 1000,
  };
}
