import { ConfigError } from "@tributary/errors";

/** The NATS users of the topology: every config, chart and app names them through these. */
export const ADMIN_USER = "admin";
export const AGGREGATOR_USER = "aggregator";
export const DELIVERY_USER = "delivery";
/** The management API (sources, subscriptions, audit) at the hub. */
export const CONTROL_USER = "control";
export function gatewayUser(region: string): string {
  return `gateway-${region}`;
}
export function leafUser(region: string): string {
  return `leaf-${region}`;
}

/** A user name that can stand in a subject token (its inbox prefix below). */
const USER_TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The inbox prefix of one user: replies to its requests (PubAcks, JetStream API answers, the
 * messages it pulls from a consumer) come to `_INBOX_{user}.…`, and each user may subscribe to
 * its own prefix only. With nats.js's shared default `_INBOX.>` every user of the account could
 * subscribe to every other user's replies: the aggregator would see the events the delivery
 * process pulls, a gateway the admin's stream reads. connectNats sets it from the user it logs in as.
 */
export function inboxPrefix(user: string): string {
  if (!USER_TOKEN.test(user))
    throw new ConfigError(
      "nats.user",
      `${JSON.stringify(user)} cannot name an inbox (letters, digits, _ and -, up to 64)`,
      "use one of the topology's users (admin, aggregator, delivery, gateway-{region})",
    );
  return `_INBOX_${user}`;
}

/** The one subscribe permission a client user needs: its own replies. */
export function inboxPermission(user: string): string {
  return `${inboxPrefix(user)}.>`;
}
