import { IsEmail, IsISO8601, IsString, IsUUID, Length } from 'class-validator';

/**
 * A user was stored by `users`. Published through the users outbox, so it may arrive more than once:
 * consumers key their effects on `userId`. Read by `mailer` (welcome e-mail) and `accounts` (opens the account).
 */
export const USER_REGISTERED = 'user.registered';

export class UserRegisteredEvent {
  @IsUUID()
  userId!: string;

  @IsEmail()
  email!: string;

  @IsString()
  @Length(1, 100)
  name!: string;

  @IsISO8601()
  registeredAt!: string;
}
