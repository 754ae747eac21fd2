// Webhook signatures: HMAC-SHA256 over "<timestamp>.<body>" with the endpoint's secret,
// sent as `Graft-Signature: t=<unix seconds>,v1=<hex>` (the scheme Stripe made familiar).
// The timestamp is signed too, so a receiver that refuses old timestamps refuses replays of
// a captured request; the event id (Graft-Event-Id, also in the body) lets it drop the
// duplicates at-least-once delivery may send.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'graft-signature';
/** How old a signed timestamp a receiver accepts by default (5 minutes, as Stripe). */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export function signWebhookBody(secret: string, timestamp: number, body: string): string {
  const digest = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${digest}`;
}

/**
 * What a receiver does with a delivery: verifies the signature over the exact body bytes in
 * constant time and refuses a timestamp outside the tolerance (a replay). Returns why it
 * refuses, or undefined when the delivery is genuine.
 */
export function verifyWebhookSignature(input: {
  secret: string;
  header: string | undefined;
  body: string;
  toleranceSeconds?: number;
  nowSeconds?: number;
}): string | undefined {
  const parts = new Map((input.header ?? '').split(',').map((part) => [part.slice(0, part.indexOf('=')), part.slice(part.indexOf('=') + 1)] as const));
  const timestamp = Number(parts.get('t'));
  const given = parts.get('v1');
  if (!Number.isInteger(timestamp) || given === undefined || !/^[0-9a-f]{64}$/.test(given)) return 'malformed signature header';
  const now = input.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > (input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) return 'timestamp outside the tolerance (a replay, or a clock far off)';
  const expected = signWebhookBody(input.secret, timestamp, input.body).slice(`t=${timestamp},v1=`.length);
  return timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(given, 'hex')) ? undefined : 'signature does not match';
}
