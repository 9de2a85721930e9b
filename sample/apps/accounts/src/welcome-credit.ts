/** What every new user gets on their account, in cents. */
export const WELCOME_CREDIT_CENTS = 500;
