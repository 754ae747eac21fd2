// Signed webhooks' door: the dispatcher (queue, delivery, retries) and the signature
// scheme, whose verifier receivers written in Node can use as it is.
export { WEBHOOK_EVENTS, WebhookDispatcher, type WebhookDispatcherOptions, type WebhookEvent } from './dispatcher.js';
export { DEFAULT_WEBHOOK_SETTINGS, type WebhookSettings } from '../config/index.js';
export { DEFAULT_TOLERANCE_SECONDS, SIGNATURE_HEADER, signWebhookBody, verifyWebhookSignature } from './signature.js';
