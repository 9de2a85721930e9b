import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectRepository } from '@nestjs/typeorm';
import { type RedisStreamContext, UnrecoverableEventError } from '@nestream/transport';
import { createTransport, type Transporter } from 'nodemailer';
import { Repository } from 'typeorm';
import type { OutgoingMail } from './mails.js';
import { SentMail } from './sent-mail.entity.js';

/** What nodemailer's errors carry of the SMTP server's answer. */
interface SmtpError extends Error {
  responseCode?: number;
  response?: string;
}

@Injectable()
export class MailService implements OnApplicationShutdown {
  private readonly logger = new Logger(MailService.name);
  private readonly transporter: Transporter;
  private readonly from: string;

  constructor(
    config: ConfigService,
    @InjectRepository(SentMail) private readonly sent: Repository<SentMail>,
  ) {
    this.transporter = createTransport({ url: config.getOrThrow<string>('SMTP_URL'), pool: true, maxConnections: 4 });
    this.from = config.getOrThrow<string>('MAIL_FROM');
  }

  /**
   * Sends `mail` unless a mail with its key was sent already, then records it. A redelivered event (after a crash,
   * or a second copy from an outbox) finds the record and sends nothing. The window between the SMTP server's
   * "250 OK" and the insert is the one place a crash still leads to a second mail: SMTP cannot take part in the
   * database transaction, so the Message-ID is derived from the key too, for receivers that drop duplicates.
   *
   * Errors: the server refusing for good (5xx, e.g. an unknown mailbox) is UnrecoverableEventError, dead-lettered at
   * once; anything else (4xx, connection trouble) is thrown as is, and the transport retries with backoff.
   */
  async sendOnce(mail: OutgoingMail, ctx: RedisStreamContext): Promise<void> {
    if (await this.sent.existsBy({ key: mail.key })) {
      this.logger.log(`${mail.key}: sent before, entry ${ctx.getMessageId()} changed nothing`);
      return;
    }
    const messageId = `<${mail.key.replace('/', '.')}@nestream-sample.example>`;
    try {
      await this.transporter.sendMail({ from: this.from, to: mail.to, subject: mail.subject, text: mail.text, messageId });
    } catch (err) {
      const smtp = err as SmtpError;
      if (smtp.responseCode !== undefined && smtp.responseCode >= 500) {
        throw new UnrecoverableEventError(`${mail.to} refused by the SMTP server: ${smtp.response ?? smtp.message}`);
      }
      throw err;
    }
    await this.sent
      .createQueryBuilder()
      .insert()
      .into(SentMail)
      .values({ key: mail.key, recipient: mail.to, subject: mail.subject, messageId, entryId: ctx.getMessageId(), attempt: ctx.getDeliveryCount(), sentAt: new Date() })
      .orIgnore()
      .execute();
    const attempt = ctx.getDeliveryCount();
    this.logger.log(`${mail.key}: sent to ${mail.to}${attempt > 1 ? ` (delivery ${attempt})` : ''}`);
  }

  /** After the consumer drained its handlers: close the pooled SMTP connections. */
  onApplicationShutdown(): void {
    this.transporter.close();
  }
}
