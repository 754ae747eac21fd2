// Signed webhooks (issue 16, item 4): operators register endpoints for control-plane
// events; each event is queued in the registry (one delivery per endpoint that wants it)
// and sent in the background, at least once, with retries and exponential backoff, so a
// restart loses nothing and a slow or dead endpoint never slows a publish or a request.
// Endpoint URLs go through the SSRF policy twice, as subgraph URLs do: when registered
// (gateway/netpolicy's check) and at every connection (its guarded connect). Redirects are
// never followed: a 3xx is a failed attempt.
import { randomBytes, randomUUID } from 'node:crypto';
import { Agent, request } from 'undici';
import type { WebhookSettings } from '../config/index.js';
import { GraftError, GraftErrorCode } from '../errors/index.js';
import { checkSubgraphUrl, createGuardedConnect, type NetworkPolicy } from '../netpolicy/index.js';
import type { ClaimedWebhookDelivery, RegistryStore, WebhookDeliveryRecord, WebhookRecord } from '../registry/index.js';
import { signWebhookBody, SIGNATURE_HEADER } from './signature.js';

/** The events an endpoint may subscribe to. */
export const WEBHOOK_EVENTS = ['release.applied', 'release.refused', 'extension.paused', 'extension.resumed', 'breaker.opened', 'breaker.closed', 'drift.detected'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export interface WebhookDispatcherOptions extends WebhookSettings {
  store: RegistryStore;
  networkPolicy: NetworkPolicy;
  /** A failure of the dispatcher itself (not of an endpoint), for the gateway log. */
  onError?: (error: unknown) => void;
}

/** Deliveries one pass sends at most (in parallel). */
const BATCH = 16;

function webhookUrlRefused(error: unknown): never {
  if (error instanceof GraftError && error.code === GraftErrorCode.URL_NOT_ALLOWED) {
    throw new GraftError(GraftErrorCode.URL_NOT_ALLOWED, error.message.replace(/^Subgraph URL/, 'Webhook URL'), error.details ? { details: error.details } : {});
  }
  throw error;
}

export class WebhookDispatcher {
  readonly #options: WebhookDispatcherOptions;
  readonly #agent: Agent;
  #timer: NodeJS.Timeout | undefined;
  #draining: Promise<void> | undefined;
  #again = false;
  #closed = false;
  /** Events being queued: close() waits for them, so none is lost at shutdown. */
  readonly #queueing = new Set<Promise<void>>();

  constructor(options: WebhookDispatcherOptions) {
    this.#options = options;
    this.#agent = new Agent({ connect: createGuardedConnect(options.networkPolicy, { connector: { timeout: options.timeoutMs } }) });
  }

  /**
   * Sends what is queued (also what a previous run left), then every pollMs, while this
   * process leads; every process queues, only the leader of the processes on the registry
   * sends (leadership moves between replicas).
   */
  deliver(leads: boolean): void {
    if (!leads) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    if (this.#timer || this.#closed) return;
    this.#timer = setInterval(() => this.#kick(), this.#options.pollMs);
    this.#timer.unref();
    this.#kick();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await Promise.all(this.#queueing);
    await this.#draining;
    await this.#agent.close();
  }

  /** Registers an endpoint; the signing secret is in the result only. Throws BAD_REQUEST, URL_NOT_ALLOWED. */
  async register(input: { url: string; events: string[]; description?: string }, actor: string): Promise<{ webhook: WebhookRecord; secret: string }> {
    const unknown = input.events.filter((e) => !(WEBHOOK_EVENTS as readonly string[]).includes(e));
    if (input.events.length === 0 || unknown.length > 0) {
      throw new GraftError(GraftErrorCode.BAD_REQUEST, `${unknown.length > 0 ? `Unknown event${unknown.length === 1 ? '' : 's'} ${unknown.join(', ')}` : 'No event'}: subscribe to one or more of ${WEBHOOK_EVENTS.join(', ')}.`);
    }
    await checkSubgraphUrl(input.url, this.#options.networkPolicy).catch(webhookUrlRefused);
    const secret = `whsec_${randomBytes(32).toString('base64url')}`;
    const webhook = await this.#options.store.createWebhook({ url: input.url, events: [...new Set(input.events)], secret, description: input.description ?? '' }, actor);
    return { webhook, secret };
  }

  list(): Promise<WebhookRecord[]> {
    return this.#options.store.listWebhooks();
  }

  delete(id: number, actor: string): Promise<WebhookRecord> {
    return this.#options.store.deleteWebhook(id, actor);
  }

  deliveries(webhookId: number, limit: number): Promise<WebhookDeliveryRecord[]> {
    return this.#options.store.listWebhookDeliveries({ webhookId, limit });
  }

  /**
   * Queues an event for every endpoint that wants it. Never throws and never makes the
   * caller wait: the queueing itself runs after the caller's turn.
   */
  emit(event: WebhookEvent, data: Record<string, unknown>): void {
    const at = new Date().toISOString();
    const eventId = randomUUID();
    const body = JSON.stringify({ id: eventId, type: event, createdAt: at, data });
    const queued = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.#options.store.enqueueWebhookEvent({ eventId, event, body, at }))
      .then(
        (count) => {
          if (count > 0) this.#kick();
        },
        (error: unknown) => this.#options.onError?.(error),
      )
      .finally(() => this.#queueing.delete(queued));
    this.#queueing.add(queued);
  }

  /** Sends what is due; a kick during a pass runs another pass after it. */
  #kick(): void {
    if (!this.#timer || this.#closed) return;
    if (this.#draining) {
      this.#again = true;
      return;
    }
    this.#draining = this.#drain()
      .catch((error: unknown) => this.#options.onError?.(error))
      .finally(() => {
        this.#draining = undefined;
        if (this.#again) {
          this.#again = false;
          this.#kick();
        }
      });
  }

  async #drain(): Promise<void> {
    // The lease outlives one attempt: another dispatcher takes a delivery over only if this one died.
    const leaseMs = this.#options.timeoutMs * 2 + 1000;
    while (!this.#closed) {
      const due = await this.#options.store.claimWebhookDeliveries(new Date().toISOString(), BATCH, leaseMs);
      if (due.length === 0) return;
      await Promise.all(due.map((delivery) => this.#attempt(delivery)));
    }
  }

  async #attempt(delivery: ClaimedWebhookDelivery): Promise<void> {
    const timestamp = Math.floor(Date.now() / 1000);
    let statusCode: number | undefined;
    let error: string | undefined;
    try {
      const response = await request(delivery.url, {
        method: 'POST',
        dispatcher: this.#agent,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Graft-Webhooks/1',
          'graft-event': delivery.event,
          'graft-event-id': delivery.eventId,
          [SIGNATURE_HEADER]: signWebhookBody(delivery.secret, timestamp, delivery.body),
        },
        body: delivery.body,
        headersTimeout: this.#options.timeoutMs,
        bodyTimeout: this.#options.timeoutMs,
        signal: AbortSignal.timeout(this.#options.timeoutMs),
      });
      statusCode = response.statusCode;
      // The answer's body is not read beyond what frees the connection.
      await response.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
      if (statusCode >= 300 && statusCode < 400) error = `HTTP ${statusCode}: redirects are not followed; register the final URL`;
      else if (statusCode < 200 || statusCode >= 300) error = `HTTP ${statusCode}`;
    } catch (cause) {
      const name = (cause as { name?: string; code?: string }).code ?? (cause as Error).name;
      error = /timeout|abort/i.test(`${name} ${(cause as Error).message}`) ? `no answer within ${this.#options.timeoutMs} ms` : `${(cause as Error).message}`;
    }
    const at = new Date();
    const attempts = delivery.attempts + 1;
    const delivered = error === undefined;
    const retryAt =
      delivered || attempts >= this.#options.maxAttempts
        ? undefined
        : new Date(at.getTime() + Math.min(this.#options.retryBaseMs * 2 ** (attempts - 1), this.#options.retryMaxMs)).toISOString();
    await this.#options.store.recordWebhookAttempt(delivery.id, {
      at: at.toISOString(),
      delivered,
      ...(statusCode === undefined ? {} : { statusCode }),
      ...(error === undefined ? {} : { error }),
      ...(retryAt === undefined ? {} : { retryAt }),
    });
  }
}

