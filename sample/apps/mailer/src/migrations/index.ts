import type { ServiceMigrations } from '@sample/common';
import { CreateSentMails1767225600000 } from './1767225600000-create-sent-mails.js';

/** The mailer owns the `mailer` schema. */
export const MAILER_MIGRATIONS: ServiceMigrations = { schema: 'mailer', migrations: [CreateSentMails1767225600000] };
