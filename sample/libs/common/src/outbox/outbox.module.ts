import { Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OutboxMessage } from './outbox-message.entity.js';
import { OutboxRelay } from './outbox-relay.service.js';
import { OUTBOX_CLIENT, OUTBOX_OPTIONS, type OutboxOptions } from './outbox.options.js';

/**
 * The transactional outbox of a service: the `outbox` entity and the relay that publishes it.
 * `OutboxModule.forRoot({ client: EVENTS })`, where EVENTS is a RedisStreamsClient registered globally.
 */
@Module({})
export class OutboxModule {
  static forRoot(options: OutboxOptions): DynamicModule {
    return {
      module: OutboxModule,
      imports: [TypeOrmModule.forFeature([OutboxMessage])],
      providers: [
        { provide: OUTBOX_OPTIONS, useValue: options },
        { provide: OUTBOX_CLIENT, useExisting: options.client },
        OutboxRelay,
      ],
      exports: [OutboxRelay],
    };
  }
}
