/*
 * The shop's public language. The three microclients share nothing but these
 * classes: each app handles its own commands and queries and publishes its
 * own events; the others only send, ask and listen.
 */
export * from './inventory.messages.js';
export * from './orders.messages.js';
export * from './payments.messages.js';
