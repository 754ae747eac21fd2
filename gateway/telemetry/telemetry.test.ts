// Unit tests of the telemetry pieces: bounded labels, the stats window, the OTEL_*
// settings (tracing off by default), and a real OTLP/HTTP export to a fake collector.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { trace } from '@opentelemetry/api';
import { ConfigError, loadConfig } from '../config/index.js';
import { BoundedLabel, ExtensionStatsWindow, OPERATION_NAME, startTracing, startTracingFrom } from './index.js';

test('a bounded label admits known values always, and at most max others of the right shape', () => {
  const label = new BoundedLabel({ pattern: OPERATION_NAME, max: 2, isKnown: (v) => v === 'Registered_but_very_long'.repeat(4) });
  assert.equal(label.of('A'), 'A');
  assert.equal(label.of('not a name'), 'other');
  assert.equal(label.of('B'), 'B');
  assert.equal(label.of('C'), 'other', 'over the bound');
  assert.equal(label.of('A'), 'A', 'admitted values stay');
  assert.equal(label.of('Registered_but_very_long'.repeat(4)), 'Registered_but_very_long'.repeat(4), 'known values pass the shape and the bound');
  assert.equal(label.of(`X${'y'.repeat(64)}`), 'other', '65 characters');
  assert.equal(label.admitted, 2);
});

test('the stats window: requests, error rate and p95 per extension over the last 5 minutes, idle ones with zeros', () => {
  let now = 1_000_000;
  const window = new ExtensionStatsWindow({ extensions: () => ['a', 'b', 'c'], breakerOf: (name) => (name === 'b' ? 'open' : 'closed'), now: () => now });
  for (let i = 1; i <= 100; i++) window.record('a', i, i > 90);
  window.record('b', 5, true);
  const first = window.snapshot();
  assert.equal(first.windowSeconds, 300);
  const [a, b, c] = first.extensions;
  assert.equal(a?.requests, 100);
  assert.equal(a?.errorRate, 0.1);
  assert.ok(a?.p95Ms !== null && a!.p95Ms! >= 95 && a!.p95Ms! <= 95 * 1.1, `p95 ≈ 95 ms, got ${a?.p95Ms}`);
  assert.deepEqual(b, { name: 'b', requests: 1, errorRate: 1, p95Ms: b?.p95Ms, breaker: 'open' });
  assert.deepEqual(c, { name: 'c', requests: 0, errorRate: 0, p95Ms: null, breaker: 'closed' });

  now += 200_000;
  window.record('a', 1000, false);
  assert.equal(window.of('a').requests, 101, 'still in the window');
  now += 150_000;
  const later = window.of('a');
  assert.equal(later.requests, 1, 'the first 100 slid out');
  assert.ok(later.p95Ms !== null && later.p95Ms >= 1000 && later.p95Ms <= 1100);
  now += 400_000;
  assert.equal(window.of('a').requests, 0);
});

test('tracing is off by default and on with the standard OTEL_* variables', () => {
  assert.equal(loadConfig({}).telemetry.traces.exporter, 'none');
  assert.equal(loadConfig({ OTEL_SERVICE_NAME: 'x' }).telemetry.traces.exporter, 'none');
  const otlp = loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).telemetry.traces;
  assert.deepEqual(otlp, { exporter: 'otlp', otlpEndpoint: 'http://collector:4318/v1/traces', serviceName: 'graft-gateway' });
  assert.equal(loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://c/v1/t' }).telemetry.traces.otlpEndpoint, 'https://c/v1/t');
  assert.equal(loadConfig({ OTEL_TRACES_EXPORTER: 'otlp' }).telemetry.traces.exporter, 'otlp');
  assert.equal(loadConfig({ OTEL_TRACES_EXPORTER: 'console', OTEL_SERVICE_NAME: 'edge' }).telemetry.traces.serviceName, 'edge');
  assert.equal(loadConfig({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).telemetry.traces.exporter, 'none');
  assert.equal(loadConfig({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' }).telemetry.traces.exporter, 'none');
  assert.throws(() => loadConfig({ OTEL_TRACES_EXPORTER: 'zipkin' }), ConfigError);
  assert.throws(() => loadConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_TRACES_EXPORTER: 'otlp' }), ConfigError);
  assert.throws(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }), ConfigError);
  assert.equal(startTracingFrom(loadConfig({}).telemetry.traces), undefined, 'nothing registered when off');
  const defaults = loadConfig({}).telemetry;
  assert.equal(defaults.metricsMaxOperations, 200);
  assert.equal(defaults.acceptClientTraceparent, false);
  assert.equal(defaults.metricsToken, undefined);
});

test('OTLP over HTTP: spans reach a collector at OTEL_EXPORTER_OTLP_ENDPOINT', async () => {
  const received: Array<{ path: string | undefined; body: string }> = [];
  const collector = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      received.push({ path: request.url, body });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  const { port } = collector.address() as AddressInfo;
  const settings = loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_SERVICE_NAME: 'graft-unit' }).telemetry.traces;
  const handle = startTracingFrom(settings);
  try {
    assert.ok(handle?.provider, 'registered');
    const again = startTracing({ exporter: 'console' });
    assert.equal(again.provider, handle.provider, 'one provider per process, shared');
    await again.stop();
    trace.getTracer('unit').startSpan('unit.span', { attributes: { 'graft.extension': 'crm' } }).end();
    await handle.flush();
    assert.equal(received.length, 1);
    assert.equal(received[0]?.path, '/v1/traces');
    const text = received[0]!.body;
    assert.match(text, /"unit\.span"/);
    assert.match(text, /"graft-unit"/);
    assert.match(text, /"graft\.extension"/);
  } finally {
    await handle?.stop();
    await new Promise((resolve) => collector.close(resolve));
  }
  assert.equal(trace.getTracer('unit').startSpan('after').isRecording(), false, 'stopped: spans are no-ops again');
});
