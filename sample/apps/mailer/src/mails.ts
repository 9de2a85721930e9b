import type { OrderSettledEvent, UserRegisteredEvent } from '@sample/contracts';

/** A mail to send, with the key that makes it "the same mail" however often its event is delivered. */
export interface OutgoingMail {
  key: string;
  to: string;
  subject: string;
  text: string;
}

export function welcomeMail(user: UserRegisteredEvent): OutgoingMail {
  return {
    key: `welcome/${user.userId}`,
    to: user.email,
    subject: `Welcome, ${user.name}!`,
    text: `Hello ${user.name},\n\nyour account is ready, with a welcome credit on it.\n`,
  };
}

const ORDER_SUBJECTS: Record<OrderSettledEvent['status'], string> = {
  confirmed: 'Your order is confirmed',
  rejected: 'Your order could not be fulfilled',
  failed: 'Your order failed',
};

export function orderSettledMail(order: OrderSettledEvent): OutgoingMail {
  const what = `${order.quantity} x ${order.sku}`;
  return {
    key: `order/${order.orderId}`,
    to: order.customerEmail,
    subject: `${ORDER_SUBJECTS[order.status]} (${order.orderId.slice(0, 8)})`,
    text: order.status === 'confirmed' ? `${what} reserved for you.\n` : `${what}: ${order.reason ?? order.status}.\n`,
  };
}
