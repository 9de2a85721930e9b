import { IsString } from 'class-validator';
import { ServiceEnvironment } from '@sample/common';

export class MailerEnvironment extends ServiceEnvironment {
  /** The SMTP server, e.g. `smtp://127.0.0.1:1025` (Mailpit in docker-compose.yml, an in-process sink in the demo). */
  @IsString()
  SMTP_URL!: string;

  /** The sender of every mail. @default `nestream sample <hello@nestream-sample.example>` */
  @IsString()
  MAIL_FROM = 'nestream sample <hello@nestream-sample.example>';
}
