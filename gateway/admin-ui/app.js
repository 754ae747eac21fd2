// The extension catalog: what a platform operator needs to see about every extension at a
// glance (owner, version, status, tenants, health, latency, errors, scopes, limits), one
// extension in detail (fields, versions, changelog), and pause / resume.
// Preact + htm as plain ES modules served by the gateway (no build step, no CDN). All data
// comes from the admin API with the operator's token, kept in sessionStorage only.
import { h, render } from './vendor/preact.mjs';
import { useEffect, useRef, useState } from './vendor/hooks.mjs';
import htm from './vendor/htm.mjs';
import { outlineSdl } from './sdl.js';

const html = htm.bind(h);

/** The admin API: the page is at <admin>/ui/, so this works under a proxy's prefix too. */
const ADMIN_API = new URL('../', import.meta.url);
const TOKEN_KEY = 'graft.adminToken';
const REFRESH_MS = 5000;

// ---------------------------------------------------------------------------------------
// The admin API

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(token, path, method = 'GET') {
  let response;
  try {
    response = await fetch(new URL(path, ADMIN_API), {
      method,
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch {
    throw new ApiError(0, 'NETWORK', 'The gateway did not answer. Is it running?');
  }
  const text = await response.text();
  let body;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    throw new ApiError(response.status, body?.code ?? `HTTP_${response.status}`, body?.message ?? `The admin API answered HTTP ${response.status}.`);
  }
  return body;
}

/**
 * A route this gateway may not have (yet), or that this token may not read:
 * { available: false } instead of an error, so the page shows "no data" for it.
 */
async function optional(token, path) {
  try {
    return { available: true, body: await api(token, path) };
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 403)) return { available: false, reason: error.message };
    throw error;
  }
}

const segment = (value) => encodeURIComponent(value);

/** Version records are immutable: each is fetched once per page load. */
const versionCache = new Map();

async function versionRecord(token, name, version) {
  const key = `${name}@${version}`;
  if (!versionCache.has(key)) {
    const loading = api(token, `extensions/${segment(name)}/versions/${segment(version)}`);
    versionCache.set(key, loading);
    loading.catch(() => versionCache.delete(key));
  }
  return versionCache.get(key);
}

/** Everything the table shows, in one refresh. */
async function loadCatalog(token) {
  const [list, allHealth, stats] = await Promise.all([
    api(token, 'extensions'),
    // GET /admin/health needs graft:admin; an extension owner asks per extension below.
    optional(token, 'health'),
    optional(token, 'stats'),
  ]);
  const extensions = [...list.extensions].sort((a, b) => a.name.localeCompare(b.name));
  const health = new Map((allHealth.available ? allHealth.body.extensions : []).map((status) => [status.name, status]));
  const versions = new Map();
  await Promise.all(
    extensions.map(async (extension) => {
      if (extension.activeVersion) {
        versions.set(extension.name, await versionRecord(token, extension.name, extension.activeVersion).catch(() => undefined));
      }
      if (!allHealth.available && extension.status === 'active') {
        const own = await optional(token, `extensions/${segment(extension.name)}/health`);
        if (own.available) health.set(extension.name, own.body);
      }
    }),
  );
  return {
    extensions,
    health,
    versions,
    stats: stats.available
      ? { windowSeconds: stats.body.windowSeconds, byName: new Map((stats.body.extensions ?? []).map((s) => [s.name, s])) }
      : undefined,
    loadedAt: new Date(),
  };
}

async function loadDetail(token, name) {
  const [extension, changelog] = await Promise.all([
    api(token, `extensions/${segment(name)}`),
    optional(token, `extensions/${segment(name)}/changelog`),
  ]);
  return { extension, changelog };
}

/** The token's claims, for display only (the gateway verifies the token, not the page). */
function claimsOf(token) {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(payload.padEnd(Math.ceil(payload.length / 4) * 4, '=')));
  } catch {
    return {};
  }
}

// ---------------------------------------------------------------------------------------
// Formatting

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const clock = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });
const formatDate = (iso) => (iso ? dateTime.format(new Date(iso)) : '—');

function formatWindow(seconds) {
  if (!seconds) return '';
  return seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`;
}

function formatMs(ms) {
  if (ms === null || ms === undefined) return '—';
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

function formatRate(rate) {
  const percent = rate * 100;
  return `${percent < 10 && percent > 0 ? percent.toFixed(1) : Math.round(percent)} %`;
}

function limitsOf(manifest) {
  const limits = manifest?.limits ?? {};
  const parts = [];
  if (limits.timeoutMs !== undefined) parts.push(['timeout', `${limits.timeoutMs} ms`]);
  if (limits.maxCost !== undefined) parts.push(['max cost', String(limits.maxCost)]);
  return parts;
}

// ---------------------------------------------------------------------------------------
// Pieces

const STATUS_HELP = {
  active: 'Serving: its fields are part of the graph.',
  paused: 'Paused: its fields answer EXTENSION_PAUSED without calling it.',
  retired: 'Retired: composed out of the graph.',
};

function StatusBadge({ status }) {
  return html`<span class=${`badge badge-${status}`} title=${STATUS_HELP[status] ?? ''}>${status}</span>`;
}

function HealthCell({ extension, health, breaker }) {
  if (extension.status !== 'active') return html`<span class="muted nowrap" title=${`Health is checked for active extensions only; this one is ${extension.status}.`}>not checked</span>`;
  if (!health || health.state === 'unknown') return html`<span class="badge badge-unknown">not checked yet</span>`;
  return html`
    <span class="nowrap">
      <span class=${`badge badge-${health.state}`} title=${health.error ?? ''}>${health.state}</span>
      ${health.latencyMs !== null && health.latencyMs !== undefined ? html` <span class="muted" title="Latency of the last health check">${formatMs(health.latencyMs)}</span>` : null}
    </span>
    ${health.state === 'unhealthy' && health.error ? html`<div class="note note-bad">${health.error}</div>` : null}
    ${health.drift?.detected ? html`<div class="note note-warn" title=${health.drift.summary ?? ''}>schema drift</div>` : null}
    ${breaker && breaker !== 'closed' ? html`<div class="note note-bad">breaker ${breaker}</div>` : null}
  `;
}

function Scopes({ grants }) {
  if (!grants || grants.length === 0) return html`<span class="muted">none</span>`;
  return html`<ul class="chips" aria-label="Scopes">${grants.map((grant) => html`<li><code>${grant}</code></li>`)}</ul>`;
}

function Limits({ manifest }) {
  const parts = limitsOf(manifest);
  if (parts.length === 0) return html`<span class="muted">gateway defaults</span>`;
  return html`<ul class="plain">${parts.map(([label, value]) => html`<li><span class="muted">${label}</span> ${value}</li>`)}</ul>`;
}

function Tenants({ tenants }) {
  if (tenants === null || tenants === undefined) return html`<span class="muted nowrap">all tenants</span>`;
  if (tenants.length === 0) return html`<span class="note-bad">no tenant</span>`;
  const shown = tenants.slice(0, 3).join(', ');
  return html`<span title=${tenants.join(', ')}>${shown}${tenants.length > 3 ? ` +${tenants.length - 3} more` : ''}</span>`;
}

function TrafficCells({ stats, name }) {
  if (!stats) {
    return html`<td class="num muted">no data</td><td class="num muted">no data</td>`;
  }
  const own = stats.byName.get(name);
  if (!own || !own.requests) {
    return html`<td class="num muted">no requests</td><td class="num muted">no requests</td>`;
  }
  const badRate = own.errorRate >= 0.05;
  return html`
    <td class="num">${formatMs(own.p95Ms)}</td>
    <td class="num">
      <span class=${badRate ? 'note-bad strong' : ''}>${formatRate(own.errorRate)}</span>
      <div class="muted small">of ${own.requests} req.</div>
    </td>
  `;
}

function ActionButton({ extension, busy, onAction }) {
  if (extension.status === 'retired') return html`<span class="muted">—</span>`;
  const action = extension.status === 'paused' ? 'resume' : 'pause';
  const label = action === 'pause' ? 'Pause' : 'Resume';
  return html`
    <button
      type="button"
      class=${`button button-${action}`}
      aria-label=${`${label} ${extension.name}`}
      disabled=${busy}
      onClick=${() => onAction(extension.name, action)}
    >${busy ? `${label}…` : label}</button>
  `;
}

function Summary({ catalog }) {
  const count = (predicate) => catalog.extensions.filter(predicate).length;
  const unhealthy = [...catalog.health.values()].filter((s) => s.state === 'unhealthy').length;
  const items = [
    ['extensions', catalog.extensions.length, ''],
    ['active', count((e) => e.status === 'active'), ''],
    ['paused', count((e) => e.status === 'paused'), count((e) => e.status === 'paused') ? 'warn' : ''],
    ['unhealthy', unhealthy, unhealthy ? 'bad' : ''],
  ];
  return html`
    <ul class="summary" aria-label="Summary">
      ${items.map(([label, value, tone]) => html`<li class=${tone ? `summary-${tone}` : ''}><strong>${value}</strong> ${label}</li>`)}
    </ul>
  `;
}

function CatalogTable({ catalog, selected, busy, onAction }) {
  return html`
    <div class="table-scroll" tabindex="0" role="region" aria-labelledby="catalog-caption">
      <table class="catalog">
        <caption id="catalog-caption">Extensions in this gateway's registry</caption>
        <thead>
          <tr>
            <th scope="col">Extension</th>
            <th scope="col">Owner</th>
            <th scope="col">Version</th>
            <th scope="col">Status</th>
            <th scope="col">Tenants</th>
            <th scope="col">Health</th>
            <th scope="col" class="num"><abbr title="95th percentile latency of its subgraph fetches">p95</abbr></th>
            <th scope="col" class="num">Errors</th>
            <th scope="col">Scopes</th>
            <th scope="col">Limits</th>
            <th scope="col"><span class="visually-hidden">Actions</span></th>
          </tr>
        </thead>
        <tbody>
          ${catalog.extensions.map((extension) => {
            const record = catalog.versions.get(extension.name);
            return html`
              <tr key=${extension.name} class=${selected === extension.name ? 'selected' : ''} data-extension=${extension.name}>
                <th scope="row">
                  <a href=${`#/extensions/${segment(extension.name)}`} aria-current=${selected === extension.name ? 'true' : undefined}>${extension.name}</a>
                  ${extension.description ? html`<div class="muted small description">${extension.description}</div>` : null}
                </th>
                <td class="owner">${extension.owner}</td>
                <td>${extension.activeVersion ? html`<code>${extension.activeVersion}</code>` : html`<span class="muted">not published</span>`}</td>
                <td><${StatusBadge} status=${extension.status} /></td>
                <td><${Tenants} tenants=${extension.tenants} /></td>
                <td><${HealthCell} extension=${extension} health=${catalog.health.get(extension.name)} breaker=${catalog.stats?.byName.get(extension.name)?.breaker} /></td>
                <${TrafficCells} stats=${catalog.stats} name=${extension.name} />
                <td><${Scopes} grants=${record?.manifest?.grants} /></td>
                <td><${Limits} manifest=${record?.manifest} /></td>
                <td><${ActionButton} extension=${extension} busy=${busy === extension.name} onAction=${onAction} /></td>
              </tr>
            `;
          })}
        </tbody>
      </table>
    </div>
    ${catalog.extensions.length === 0
      ? html`<p class="empty">No extension to show: none is registered, or this token may see none. Publish one with <code>graft publish</code>, or sign in with a token that has <code>graft:admin</code>.</p>`
      : null}
    <p class="muted small">
      ${catalog.stats
        ? `p95 latency and error rate of the gateway's fetches to each extension over the last ${formatWindow(catalog.stats.windowSeconds)}.`
        : html`p95 latency and error rate: no data (this gateway does not serve <code>GET /admin/stats</code>, or the token may not read it).`}
    </p>
  `;
}

// ---------------------------------------------------------------------------------------
// Detail view

function FieldsOf({ sdl }) {
  if (!sdl) return html`<p class="muted">No published version: no fields yet.</p>`;
  const types = outlineSdl(sdl);
  const fieldCount = types.reduce((sum, type) => sum + type.fields.length, 0);
  return html`
    <p class="muted">${fieldCount} fields in ${types.length} types, from the SDL of the active version.</p>
    ${types.map(
      (type) => html`
        <section class="type" key=${type.name} aria-label=${`${type.kind} ${type.name}`}>
          <h4>
            <span class="kind">${type.extend ? `extend ${type.kind}` : type.kind}</span> ${type.name}
            ${type.interfaces.length ? html` <span class="muted">implements ${type.interfaces.join(' & ')}</span>` : null}
            ${type.directives.map((d) => html` <code class="directive">${d}</code>`)}
          </h4>
          ${type.description ? html`<p class="muted small">${type.description}</p>` : null}
          ${type.fields.length
            ? html`
                <table class="fields">
                  <thead>
                    <tr><th scope="col">Field</th><th scope="col">Type</th><th scope="col">Arguments</th><th scope="col">Directives</th></tr>
                  </thead>
                  <tbody>
                    ${type.fields.map(
                      (field) => html`
                        <tr key=${field.name}>
                          <th scope="row"><code>${type.name}.${field.name}</code>${field.description ? html`<div class="muted small">${field.description}</div>` : null}</th>
                          <td><code>${field.type}</code>${field.defaultValue ? html` <span class="muted">= ${field.defaultValue}</span>` : null}</td>
                          <td>${field.args ? html`<code>${field.args}</code>` : null}</td>
                          <td>${field.directives.map((d) => html`<code class="directive">${d}</code> `)}</td>
                        </tr>
                      `,
                    )}
                  </tbody>
                </table>
              `
            : null}
          ${type.values.length ? html`<p>Values: ${type.values.map((v, i) => html`${i ? ', ' : ''}<code>${v.name}</code>`)}</p>` : null}
          ${type.members.length ? html`<p>Members: ${type.members.map((m, i) => html`${i ? ' | ' : ''}<code>${m}</code>`)}</p>` : null}
        </section>
      `,
    )}
  `;
}

function Versions({ extension }) {
  const versions = extension.versions ?? [];
  if (versions.length === 0) return html`<p class="muted">No version has been published.</p>`;
  return html`
    <table class="versions">
      <caption class="visually-hidden">Versions of ${extension.name}, newest first</caption>
      <thead><tr><th scope="col">Version</th><th scope="col">Published</th><th scope="col">By</th><th scope="col">Supergraph</th></tr></thead>
      <tbody>
        ${versions.map(
          (v) => html`
            <tr key=${v.version}>
              <th scope="row"><code>${v.version}</code>${v.version === extension.activeVersion ? html` <span class="badge badge-active">active</span>` : null}</th>
              <td>${formatDate(v.publishedAt)}</td>
              <td>${v.publishedBy}</td>
              <td>#${v.supergraphId}</td>
            </tr>
          `,
        )}
      </tbody>
    </table>
  `;
}

const CRITICALITIES = ['breaking', 'dangerous', 'safe'];
const MAX_CHANGES_SHOWN = 12;

function Deprecation({ item }) {
  return html`<li>
    <code>${item.coordinate}</code>${item.reason ? html` <span class="muted">(${item.reason})</span>` : null}
    ${item.earliestRemoval ? html` · may be removed from ${formatDate(item.earliestRemoval)}` : null}
  </li>`;
}

function ChangelogEntry({ entry }) {
  const changes = CRITICALITIES.flatMap((criticality) => (entry.changes?.[criticality] ?? []).map((change) => ({ ...change, criticality })));
  const shown = changes.slice(0, MAX_CHANGES_SHOWN);
  return html`
    <li>
      <div>
        <strong><code>${entry.version}</code></strong>
        ${entry.previousVersion ? html` <span class="muted">from <code>${entry.previousVersion}</code></span>` : html` <span class="muted">first version</span>`}
        ${entry.bump ? html` <span class="badge badge-change">${entry.bump}</span>` : null}
        ${entry.verdict ? html` <span class=${`badge badge-${entry.verdict}`}>${entry.verdict}</span>` : null}
      </div>
      <div class="muted small">${formatDate(entry.publishedAt)}${entry.publishedBy ? ` by ${entry.publishedBy}` : ''}</div>
      ${entry.forced ? html`<p class="note-bad">Forced by ${entry.forced.by}: ${entry.forced.reason}</p>` : null}
      ${shown.length
        ? html`<ul class="changes">
            ${shown.map(
              (change) => html`<li>
                <span class=${`badge badge-${change.criticality}`}>${change.criticality}</span>
                ${change.level ? html` <span class="muted small">${change.level}</span>` : null} ${change.message ?? change.path}
              </li>`,
            )}
            ${changes.length > shown.length ? html`<li class="muted">and ${changes.length - shown.length} more</li>` : null}
          </ul>`
        : entry.previousVersion
          ? html`<p class="muted small">No schema change.</p>`
          : null}
      ${entry.removals?.length ? html`<p class="small">Removed: ${entry.removals.map((r, i) => html`${i ? ', ' : ''}<code>${r.coordinate}</code>`)}</p>` : null}
      ${entry.deprecations?.length ? html`<p class="small">Deprecated:</p><ul class="small">${entry.deprecations.map((d) => html`<${Deprecation} item=${d} />`)}</ul>` : null}
      ${entry.affectedOperations?.length ? html`<p class="small">Operations affected: ${entry.affectedOperations.join(', ')}</p>` : null}
      ${entry.notes?.length ? html`<ul class="small">${entry.notes.map((note) => html`<li>${note}</li>`)}</ul>` : null}
    </li>
  `;
}

function Changelog({ changelog }) {
  if (!changelog) return html`<p class="muted">Loading…</p>`;
  if (!changelog.available) return html`<p class="muted">No data: ${changelog.reason ?? 'this gateway has no changelog route.'}</p>`;
  const { entries = [], pendingRemovals = [] } = changelog.body ?? {};
  return html`
    ${pendingRemovals.length
      ? html`<div class="pending">
          <h4>Deprecated, pending removal</h4>
          <ul class="small">${pendingRemovals.map((d) => html`<${Deprecation} item=${d} />`)}</ul>
        </div>`
      : null}
    ${entries.length === 0
      ? html`<p class="muted">No entry yet.</p>`
      : html`<ol class="changelog" reversed>${entries.map((entry) => html`<${ChangelogEntry} key=${entry.version} entry=${entry} />`)}</ol>`}
  `;
}

function Detail({ token, name, catalog, onUnauthorized }) {
  const [detail, setDetail] = useState(undefined);
  const [problem, setProblem] = useState(undefined);
  const heading = useRef(null);

  useEffect(() => {
    setDetail(undefined);
    setProblem(undefined);
    heading.current?.focus();
  }, [name]);

  useEffect(() => {
    let stopped = false;
    let timer;
    const tick = async () => {
      if (!document.hidden) {
        try {
          const loaded = await loadDetail(token, name);
          if (stopped) return;
          setDetail(loaded);
          setProblem(undefined);
        } catch (error) {
          if (stopped) return;
          if (error.status === 401) return onUnauthorized(error);
          setProblem(error);
        }
      }
      if (!stopped) timer = setTimeout(tick, REFRESH_MS);
    };
    tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [token, name]);

  const summary = catalog.extensions.find((e) => e.name === name);
  const extension = detail?.extension ?? summary;
  const record = catalog.versions.get(name);
  const health = catalog.health.get(name);
  return html`
    <section class="detail" aria-labelledby="detail-title">
      <div class="detail-head">
        <h2 id="detail-title" tabindex="-1" ref=${heading}>${name} ${extension ? html`<${StatusBadge} status=${extension.status} />` : null}</h2>
        <a class="button button-quiet" href="#/">Back to all extensions</a>
      </div>
      ${problem?.status === 404
        ? html`<p role="alert" class="problem">There is no extension “${name}”.</p>`
        : problem
          ? html`<p role="alert" class="problem">Could not load ${name}: ${problem.message}</p>`
          : null}
      ${extension
        ? html`
            <dl class="facts">
              <div><dt>Owner</dt><dd>${extension.owner}</dd></div>
              <div><dt>Description</dt><dd>${extension.description || html`<span class="muted">none</span>`}</dd></div>
              <div><dt>Active version</dt><dd>${extension.activeVersion ? html`<code>${extension.activeVersion}</code>` : '—'}${record ? html` <span class="muted">published ${formatDate(record.publishedAt)} by ${record.publishedBy}</span>` : null}</dd></div>
              <div><dt>Subgraph</dt><dd>${record?.manifest?.subgraph?.url ? html`<code>${record.manifest.subgraph.url}</code>` : '—'}</dd></div>
              <div><dt>Tenants</dt><dd><${Tenants} tenants=${extension.tenants} /></dd></div>
              <div><dt>Scopes</dt><dd><${Scopes} grants=${record?.manifest?.grants} /></dd></div>
              <div><dt>Limits</dt><dd><${Limits} manifest=${record?.manifest} /></dd></div>
              <div>
                <dt>Health</dt>
                <dd>
                  <${HealthCell} extension=${extension} health=${health} breaker=${catalog.stats?.byName.get(name)?.breaker} />
                  ${health?.lastCheckedAt ? html`<div class="muted small">last checked ${formatDate(health.lastCheckedAt)}${health.drift?.summary ? ` · ${health.drift.summary}` : ''}</div>` : null}
                </dd>
              </div>
            </dl>
          `
        : null}
      <div class="detail-columns">
        <section aria-labelledby="fields-title" class="fields-section">
          <h3 id="fields-title">Fields it contributes</h3>
          <${FieldsOf} sdl=${record?.sdl} />
        </section>
        <div>
          <section aria-labelledby="versions-title">
            <h3 id="versions-title">Version history</h3>
            ${detail ? html`<${Versions} extension=${detail.extension} />` : html`<p class="muted">Loading…</p>`}
          </section>
          <section aria-labelledby="changelog-title">
            <h3 id="changelog-title">Changelog</h3>
            <${Changelog} changelog=${detail?.changelog} />
          </section>
        </div>
      </div>
    </section>
  `;
}

// ---------------------------------------------------------------------------------------
// Sign-in and the page

function Login({ onSignIn, message }) {
  const [value, setValue] = useState('');
  const [problem, setProblem] = useState(undefined);
  const [checking, setChecking] = useState(false);

  const submit = async (event) => {
    event.preventDefault();
    const token = value.trim().replace(/^Bearer\s+/i, '');
    if (!token) return setProblem('Paste an admin token first.');
    setChecking(true);
    setProblem(undefined);
    try {
      await api(token, 'extensions');
      onSignIn(token);
    } catch (error) {
      setProblem(error.status === 401 ? `The gateway refused this token: ${error.message}` : error.message);
      setChecking(false);
    }
  };

  return html`
    <main class="page login" id="main">
      <h1>Extension catalog</h1>
      <p>Sign in with a token for the Graft admin API: <code>graft:admin</code> shows every extension, <code>${'graft:publish:<name>'}</code> only that one.</p>
      ${message ? html`<p class="notice" role="status">${message}</p>` : null}
      <form onSubmit=${submit} novalidate>
        <label for="token">Admin token (JWT)</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="off"
          spellcheck="false"
          required
          aria-describedby="token-help"
          aria-invalid=${problem ? 'true' : 'false'}
          value=${value}
          onInput=${(event) => setValue(event.currentTarget.value)}
        />
        <p id="token-help" class="muted small">
          In development: <code>npx graft token --sub admin --scopes graft:admin</code>. It is kept in this tab only (sessionStorage) and sent to
          the admin API as a Bearer token.
        </p>
        ${problem ? html`<p class="problem" role="alert">${problem}</p>` : null}
        <button type="submit" class="button button-primary" disabled=${checking}>${checking ? 'Signing in…' : 'Sign in'}</button>
      </form>
    </main>
  `;
}

const routeOf = () => {
  const match = /^#\/extensions\/([^/]+)$/.exec(location.hash);
  return match ? decodeURIComponent(match[1]) : undefined;
};

function App() {
  const [token, setToken] = useState(() => sessionStorage.getItem(TOKEN_KEY) ?? undefined);
  const [signedOutMessage, setSignedOutMessage] = useState(undefined);
  const [catalog, setCatalog] = useState(undefined);
  const [problem, setProblem] = useState(undefined);
  const [busy, setBusy] = useState(undefined);
  const [announcement, setAnnouncement] = useState('');
  const [selected, setSelected] = useState(routeOf);

  useEffect(() => {
    const onHash = () => setSelected(routeOf());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);

  const signOut = (message) => {
    sessionStorage.removeItem(TOKEN_KEY);
    versionCache.clear();
    setToken(undefined);
    setCatalog(undefined);
    setSignedOutMessage(message);
  };
  const onUnauthorized = (error) => signOut(`Signed out: the gateway no longer accepts the token (${error.message}). Sign in with a new one.`);

  const signIn = (value) => {
    sessionStorage.setItem(TOKEN_KEY, value);
    setSignedOutMessage(undefined);
    setToken(value);
  };

  // Refresh: now, then every REFRESH_MS after the previous refresh ended (none while the tab is hidden).
  useEffect(() => {
    if (!token) return undefined;
    let stopped = false;
    let timer;
    const tick = async () => {
      clearTimeout(timer);
      if (!document.hidden) {
        try {
          const loaded = await loadCatalog(token);
          if (stopped) return;
          setCatalog(loaded);
          setProblem(undefined);
        } catch (error) {
          if (stopped) return;
          if (error.status === 401) return onUnauthorized(error);
          setProblem(error.message);
        }
      }
      if (!stopped) timer = setTimeout(tick, REFRESH_MS);
    };
    const onVisible = () => {
      if (!document.hidden) tick();
    };
    tick();
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [token]);

  const onAction = async (name, action) => {
    setBusy(name);
    try {
      const updated = await api(token, `extensions/${segment(name)}/${action}`, 'POST');
      setCatalog((current) => current && { ...current, extensions: current.extensions.map((e) => (e.name === name ? { ...e, ...updated } : e)) });
      setAnnouncement(action === 'pause' ? `${name} is paused: its fields answer EXTENSION_PAUSED.` : `${name} is active again.`);
    } catch (error) {
      if (error.status === 401) return onUnauthorized(error);
      setAnnouncement(`Could not ${action} ${name}: ${error.message}`);
    } finally {
      setBusy(undefined);
    }
  };

  if (!token) return html`<${Login} onSignIn=${signIn} message=${signedOutMessage} />`;

  const claims = claimsOf(token);
  return html`
    <header class="topbar">
      <div class="brand"><img src="./favicon.svg" alt="" width="24" height="24" /> Graft</div>
      <div class="who">
        ${claims.sub ? html`<span>Signed in as <strong>${claims.sub}</strong></span>` : null}
        ${claims.exp ? html`<span class="muted"> · token valid until ${clock.format(new Date(claims.exp * 1000))}</span>` : null}
        <button type="button" class="button button-quiet" onClick=${() => signOut('Signed out.')}>Sign out</button>
      </div>
    </header>
    <main class="page" id="main">
      <div class="title-row">
        <h1>Extension catalog</h1>
        <p class="muted small" aria-live="off">
          ${catalog ? `Updated ${clock.format(catalog.loadedAt)} · refreshes every ${REFRESH_MS / 1000} s` : 'Loading…'}
        </p>
      </div>
      <p class="visually-hidden" role="status" aria-live="polite">${announcement}</p>
      ${announcement ? html`<p class="notice" aria-hidden="true">${announcement}</p>` : null}
      ${problem ? html`<p class="problem" role="alert">Could not refresh: ${problem}${catalog ? ` Showing the data of ${clock.format(catalog.loadedAt)}.` : ''}</p>` : null}
      ${catalog
        ? html`
            <${Summary} catalog=${catalog} />
            <${CatalogTable} catalog=${catalog} selected=${selected} busy=${busy} onAction=${onAction} />
            ${selected ? html`<${Detail} key=${selected} token=${token} name=${selected} catalog=${catalog} onUnauthorized=${onUnauthorized} />` : null}
          `
        : null}
    </main>
  `;
}

const root = document.getElementById('app');
root.textContent = '';
render(html`<${App} />`, root);
