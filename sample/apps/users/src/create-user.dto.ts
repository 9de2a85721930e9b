import { Transform } from 'class-transformer';
import { IsEmail, IsString, Length } from 'class-validator';

/** Body of `POST /users`. */
export class CreateUserDto {
  @Transform(({ value }) => (typeof value === 'string' ? value.trim().toLowerCase() : value))
  @IsEmail()
  email!: string;

  @IsString()
  @Length(1, 100)
  name!: string;
}
