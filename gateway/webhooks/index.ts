// Signed webhooks' door: the dispatcher (queue, delivery, retries) and the signature
// scheme, whose verifier receivers written in Node can use as it is.
export { DEFAULT_WEBHOOK_SETTINGS, WEBHOOK_EVENTS, WebhookDispatcher, type WebhookDispatcherOptions, type WebhookEvent, type WebhookSettings } from './dispatcher.js';
export { DEFAULT_TOLERANCE_SECONDS, SIGNATURE_HEADER, signWebhookBody, verifyWebhookSignature } from './signature.js';
