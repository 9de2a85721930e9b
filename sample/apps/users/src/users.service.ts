import { randomUUID } from 'node:crypto';
import { ConflictException, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { addToOutbox, OutboxRelay } from '@sample/common';
import { USER_REGISTERED, type UserRegisteredEvent } from '@sample/contracts';
import { DataSource, QueryFailedError, Repository } from 'typeorm';
import type { CreateUserDto } from './create-user.dto.js';
import { User } from './user.entity.js';

/** Postgres' error code for a unique constraint that would be violated. */
const UNIQUE_VIOLATION = '23505';

@Injectable()
export class UsersService {
  private readonly logger = new Logger(UsersService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly outbox: OutboxRelay,
  ) {}

  /**
   * Stores the user and queues `user.registered` in one transaction: either both are committed or neither, so a
   * crash can neither lose the event of a stored user nor announce a user that was not stored.
   */
  async register(dto: CreateUserDto): Promise<User> {
    const user = this.users.create({ id: randomUUID(), email: dto.email, name: dto.name, registeredAt: new Date() });
    try {
      await this.dataSource.transaction(async manager => {
        await manager.insert(User, user);
        const event: UserRegisteredEvent = {
          userId: user.id,
          email: user.email,
          name: user.name,
          registeredAt: user.registeredAt.toISOString(),
        };
        await addToOutbox(manager, USER_REGISTERED, event);
      });
    } catch (err) {
      if (err instanceof QueryFailedError && (err.driverError as { code?: string }).code === UNIQUE_VIOLATION) {
        throw new ConflictException(`${dto.email} is already registered`);
      }
      throw err;
    }
    this.outbox.wake();
    this.logger.log(`registered ${user.email} (${user.id})`);
    return user;
  }

  async get(id: string): Promise<User> {
    const user = await this.users.findOneBy({ id });
    if (!user) throw new NotFoundException(`no user ${id}`);
    return user;
  }
}
