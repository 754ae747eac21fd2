// Signed webhooks over real HTTP (issue 16, item 4), with real local receivers: a delivery
// is signed over timestamp and body and verifies; an endpoint that answers 500, hangs or
// redirects is retried with backoff until its attempts run out, logged in the admin API,
// and never holds up the publish or pause that raised the event; a queued delivery survives
// a restart; URLs go through the SSRF policy.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { GraftServer } from '../../gateway/server/index.js';
import { verifyWebhookSignature } from '../../gateway/webhooks/index.js';
import { exampleManifest, http, publish, startGateway, tempDir, tokenFor } from '../helpers/index.js';

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A local receiver: /ok answers 204, /fail 500, /hang never, /redirect 302 to /target. */
async function startReceiver(port = 0): Promise<{ url: string; port: number; received: Received[]; hanging: Set<ServerResponse>; close(): Promise<void> }> {
  const received: Received[] = [];
  const hanging = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      received.push({ path: request.url ?? '', headers: request.headers, body });
      if (request.url === '/hang') {
        hanging.add(response);
        response.on('close', () => hanging.delete(response));
        return;
      }
      if (request.url === '/fail') return void response.writeHead(500).end('broken');
      if (request.url === '/redirect') return void response.writeHead(302, { location: '/target' }).end();
      response.writeHead(204).end();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    received,
    hanging,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

interface Delivery {
  eventId: string;
  event: string;
  status: string;
  attempts: number;
  lastStatusCode?: number | null;
  lastError?: string | null;
}

/** Waits (bounded) until the webhook's delivery log satisfies `done`. */
async function deliveriesUntil(server: GraftServer, admin: string, webhookId: number, done: (log: Delivery[]) => boolean): Promise<Delivery[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const log = (await http<{ deliveries: Delivery[] }>(`${server.url}/admin/webhooks/${webhookId}/deliveries`, { token: admin })).body.deliveries;
    if (done(log)) return log;
    if (Date.now() > deadline) throw new Error(`delivery log never got there: ${JSON.stringify(log)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const FAST_RETRIES = { timeoutMs: 300, maxAttempts: 3, retryBaseMs: 20, retryMaxMs: 100, pollMs: 25 };

describe('signed webhooks', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let server: GraftServer;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let admin: string;
  let version = 0;

  const register = (path: string, events: string[]) =>
    http<{ webhook: { id: number }; secret: string }>(`${server.url}/admin/webhooks`, { token: admin, body: { url: `${receiver.url}${path}`, events } });
  const publishCrm = async () => {
    version += 1;
    return publish(server, admin, await exampleManifest('crm', 'http://127.0.0.1:9/graphql', { version: `1.${version}.0` }));
  };

  before(async () => {
    dir = await tempDir();
    receiver = await startReceiver();
    server = await startGateway(dir.path, { webhooks: FAST_RETRIES });
    admin = await tokenFor(server, 'admin', ['graft:admin']);
  });
  after(async () => {
    await server?.close();
    await receiver?.close();
    await dir?.remove();
  });

  test('a release is delivered as JSON signed over timestamp and body; the receiver verifies it and refuses a tampered body or a replay', async () => {
    const created = await register('/ok', ['release.applied']);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const { secret, webhook } = created.body;
    assert.match(secret, /^whsec_/);
    assert.equal((await publishCrm()).status, 201);
    const log = await deliveriesUntil(server, admin, webhook.id, (l) => l.some((d) => d.status === 'delivered'));
    assert.deepEqual(log.map((d) => [d.event, d.status, d.attempts, d.lastStatusCode]), [['release.applied', 'delivered', 1, 204]]);

    const delivery = receiver.received.find((r) => r.path === '/ok')!;
    const body = JSON.parse(delivery.body) as { id: string; type: string; createdAt: string; data: { versions: Array<{ extension: string; version: string }>; actor: string } };
    assert.equal(body.type, 'release.applied');
    assert.deepEqual(body.data.versions, [{ extension: 'crm', version: '1.1.0' }]);
    assert.equal(body.data.actor, 'admin');
    assert.equal(delivery.headers['graft-event'], 'release.applied');
    assert.equal(delivery.headers['graft-event-id'], body.id);
    assert.equal(delivery.headers['content-type'], 'application/json');
    const header = delivery.headers['graft-signature'] as string;
    assert.match(header, /^t=\d+,v1=[0-9a-f]{64}$/);
    assert.equal(verifyWebhookSignature({ secret, header, body: delivery.body }), undefined);
    assert.equal(verifyWebhookSignature({ secret, header, body: delivery.body.replace('1.1.0', '9.9.9') }), 'signature does not match');
    assert.equal(verifyWebhookSignature({ secret: 'whsec_other', header, body: delivery.body }), 'signature does not match');
    const sentAt = Number(/t=(\d+)/.exec(header)![1]);
    assert.match(verifyWebhookSignature({ secret, header, body: delivery.body, nowSeconds: sentAt + 301 }) ?? '', /replay/);
  });

  test('an endpoint answering 500 is retried until its attempts run out, each logged; the pause that raised it was not held up', async () => {
    const { webhook } = (await register('/fail', ['extension.paused'])).body;
    const paused = await http(`${server.url}/admin/extensions/crm/pause`, { token: admin, method: 'POST' });
    assert.equal(paused.status, 200);
    const log = await deliveriesUntil(server, admin, webhook.id, (l) => l.some((d) => d.status === 'failed'));
    assert.deepEqual(log.map((d) => [d.event, d.status, d.attempts, d.lastStatusCode, d.lastError]), [['extension.paused', 'failed', 3, 500, 'HTTP 500']]);
    const sent = receiver.received.filter((r) => r.path === '/fail');
    assert.equal(sent.length, 3);
    assert.equal(new Set(sent.map((r) => r.headers['graft-event-id'])).size, 1, 'every retry carries the same event id');
    assert.equal((await http(`${server.url}/admin/extensions/crm/resume`, { token: admin, method: 'POST' })).status, 200);
  });

  test('an endpoint that hangs is given up on after the timeout and retried, while publishes go on', async () => {
    const { webhook } = (await register('/hang', ['release.applied'])).body;
    assert.equal((await publishCrm()).status, 201);
    // Wait for the first delivery to be held open by the receiver, then publish again meanwhile.
    const deadline = Date.now() + 60_000;
    while (receiver.hanging.size === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.ok(receiver.hanging.size > 0 || receiver.received.some((r) => r.path === '/hang'), 'the receiver got the delivery');
    assert.equal((await publishCrm()).status, 201, 'a publish while an endpoint hangs');
    const log = await deliveriesUntil(server, admin, webhook.id, (l) => l.length === 2 && l.every((d) => d.status === 'failed'));
    for (const delivery of log) {
      assert.equal(delivery.attempts, 3);
      assert.equal(delivery.lastError, 'no answer within 300 ms');
    }
  });

  test('a redirect is not followed: the attempt fails naming it, and the target is never called', async () => {
    const { webhook } = (await register('/redirect', ['extension.paused'])).body;
    assert.equal((await http(`${server.url}/admin/extensions/crm/pause`, { token: admin, method: 'POST' })).status, 200);
    const log = await deliveriesUntil(server, admin, webhook.id, (l) => l.some((d) => d.status === 'failed'));
    assert.equal(log[0]?.lastStatusCode, 302);
    assert.match(log[0]?.lastError ?? '', /redirects are not followed/);
    assert.equal(receiver.received.filter((r) => r.path === '/target').length, 0);
    assert.equal((await http(`${server.url}/admin/extensions/crm/resume`, { token: admin, method: 'POST' })).status, 200);
  });

  test('bad registrations are refused and store nothing: an SSRF target, an unknown event, a caller without graft:admin', async () => {
    const before = (await http<{ webhooks: unknown[] }>(`${server.url}/admin/webhooks`, { token: admin })).body.webhooks;
    const metadata = await http<{ code: string; message: string }>(`${server.url}/admin/webhooks`, { token: admin, body: { url: 'http://169.254.169.254/latest/meta-data', events: ['release.applied'] } });
    assert.equal(metadata.status, 400);
    assert.equal(metadata.body.code, 'URL_NOT_ALLOWED');
    assert.match(metadata.body.message, /^Webhook URL/);
    const unknown = await http<{ code: string; message: string }>(`${server.url}/admin/webhooks`, { token: admin, body: { url: `${receiver.url}/ok`, events: ['release.exploded'] } });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.message, /Unknown event release\.exploded: subscribe to one or more of release\.applied/);
    const owner = await tokenFor(server, 'crm-owner', ['graft:publish:crm']);
    const forbidden = await http<{ code: string }>(`${server.url}/admin/webhooks`, { token: owner, body: { url: `${receiver.url}/ok`, events: ['release.applied'] } });
    assert.equal(forbidden.status, 403);
    assert.deepEqual((await http<{ webhooks: unknown[] }>(`${server.url}/admin/webhooks`, { token: admin })).body.webhooks, before);
    assert.ok(!JSON.stringify(before).includes('whsec_'), 'listings never show a secret');
  });
});

describe('signed webhooks: the queue survives a restart', () => {
  test('a delivery that failed before a restart is sent by the next gateway on the same registry', async () => {
    const dir = await tempDir();
    let receiver = await startReceiver();
    const { port } = receiver;
    await receiver.close(); // nobody listens: the first attempt fails
    const settings = { ...FAST_RETRIES, retryBaseMs: 1500, retryMaxMs: 1500, maxAttempts: 5 };
    let server = await startGateway(dir.path, { webhooks: settings });
    let admin = await tokenFor(server, 'admin', ['graft:admin']);
    try {
      const { webhook } = (await http<{ webhook: { id: number } }>(`${server.url}/admin/webhooks`, { token: admin, body: { url: `http://127.0.0.1:${port}/ok`, events: ['release.applied'] } })).body;
      assert.equal((await publish(server, admin, await exampleManifest('crm', 'http://127.0.0.1:9/graphql'))).status, 201);
      await deliveriesUntil(server, admin, webhook.id, (l) => l[0]?.attempts === 1 && l[0].status === 'pending');
      await server.close();

      receiver = await startReceiver(port);
      server = await startGateway(dir.path, { webhooks: settings });
      admin = await tokenFor(server, 'admin', ['graft:admin']);
      const log = await deliveriesUntil(server, admin, webhook.id, (l) => l[0]?.status === 'delivered');
      assert.equal(log[0]?.attempts, 2);
      assert.equal(receiver.received.length, 1);
      assert.equal(JSON.parse(receiver.received[0]!.body).type, 'release.applied');
    } finally {
      await server.close();
      await receiver.close();
      await dir.remove();
    }
  });
});
