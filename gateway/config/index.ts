// Gateway configuration, in one validated place. Sources: environment variables
// (documented in the README), then explicit overrides from code (tests, the CLI).
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';


// ---------------------------------------------------------------------------------------
// Settings the feature folders read. The configuration owns them as plain data (no feature
// folder is imported here); each feature folder re-exports the part it reads and says what
// it does with it.

export interface QueryLimits {
  /** Deepest field nesting; a root field is depth 1. */
  maxDepth: number;
  /** Aliased fields in an operation, fragments included. */
  maxAliases: number;
  /** Fields of the root type in an operation, each use counted (aliases too). */
  maxRootFields: number;
  /** Lexical tokens in the document (graphql-js `maxLexicalTokens`), enforced while parsing. */
  maxTokens: number;
  /** Directive applications in an operation, fragments included (graphql-armor's measure). */
  maxDirectives: number;
}

/**
 * Defaults for frontends of a low-code platform:
 * - maxDepth 12: the deepest example operation (customers → orders → items → product → name)
 *   is 5; connection-style schemas add 2 levels per hop (edges → node), so 12 leaves room
 *   for 3–4 hops of generated queries while refusing cyclic-relationship walks (customer →
 *   orders → customer → …). graphql-armor's 6 is too tight for connections; Apollo Router's
 *   documented example, 100, does not stop anything (list sizes are the cost budget's job).
 * - maxAliases 30 and maxRootFields 20: Apollo Router's documented values (graphql-armor
 *   allows 15 aliases).
 * - maxTokens 2000: the example operations have 30–60 tokens and GraphiQL's full
 *   introspection query 184; graphql-armor's default is 1000, Apollo Router's 15000.
 * - maxDirectives 50 per operation: graphql-armor's default; Graft counts per operation
 *   like armor, not per field, because what costs is the total the server evaluates.
 * Introspection depth: graphql-js's MaxIntrospectionDepthRule (in specifiedRules, so Apollo
 * Server always runs it) bounds nested __Type lists; the depth limit here skips __schema
 * and __type so that tools' standard introspection query is not refused.
 */
export const DEFAULT_QUERY_LIMITS: Readonly<QueryLimits> = Object.freeze({
  maxDepth: 12,
  maxAliases: 30,
  maxRootFields: 20,
  maxTokens: 2000,
  maxDirectives: 50,
});

export interface ResilienceOptions {
  /** Most fetches in flight to one extension; more wait in a queue of the same size, then fail. */
  maxConcurrent: number;
  /** Extra attempts for a query after a retryable failure. */
  retries: number;
  /** Consecutive failures that open the breaker. */
  breakerConsecutiveFailures: number;
  /** Failure rate (0–1) over the last `breakerWindow` calls that opens the breaker. */
  breakerFailureRate: number;
  breakerWindow: number;
  /** First wait before a half-open probe; doubles up to 60 s while probes fail. */
  breakerHalfOpenAfterMs: number;
}

export const DEFAULT_RESILIENCE: ResilienceOptions = {
  maxConcurrent: 256,
  retries: 2,
  breakerConsecutiveFailures: 5,
  breakerFailureRate: 0.5,
  breakerWindow: 20,
  breakerHalfOpenAfterMs: 5_000,
};

/** filter (Apollo Router's default): drop denied fields; reject: refuse the operation. */
export type AuthorizationMode = 'filter' | 'reject';

/** What a @policy function sees of the verified token (gateway/auth's Principal). */
export interface PolicyPrincipal {
  readonly subject: string;
  readonly anonymous: boolean;
  readonly scopes: ReadonlySet<string>;
  readonly tenant: string | undefined;
  readonly claims: Readonly<Record<string, unknown>>;
}

/** A named @policy: a function of the verified claims, registered in the gateway config. */
export type PolicyFunction = (principal: PolicyPrincipal) => boolean;

export interface NetworkPolicy {
  /** 127.0.0.0/8 and ::1 (the example extensions run there in development). */
  allowLoopback: boolean;
  /** RFC 1918, CGNAT 100.64/10, IPv6 unique local fc00::/7. */
  allowPrivate: boolean;
  /**
   * Exact host names (no wildcards) that may resolve to loopback or private addresses,
   * e.g. "inventory.internal". They never lift link-local, metadata, unspecified,
   * multicast or reserved ranges: only allowCidrs does that, deliberately and visibly.
   */
  allowHosts: string[];
  /** CIDRs (or single addresses) that are always allowed, e.g. "10.20.0.0/16". */
  allowCidrs: string[];
}

/** Development and tests: the examples listen on 127.0.0.1. Nothing else private. */
export function devNetworkPolicy(): NetworkPolicy {
  return { allowLoopback: true, allowPrivate: false, allowHosts: [], allowCidrs: [] };
}

/** Production: public addresses only, until the operator allowlists more. */
export function productionNetworkPolicy(): NetworkPolicy {
  return { allowLoopback: false, allowPrivate: false, allowHosts: [], allowCidrs: [] };
}

/** Env variables read by networkPolicyFromEnv; refusal messages name them too. */
export const NETWORK_POLICY_ENV = {
  allowLoopback: 'GRAFT_NET_ALLOW_LOOPBACK',
  allowPrivate: 'GRAFT_NET_ALLOW_PRIVATE',
  allowHosts: 'GRAFT_NET_ALLOW_HOSTS',
  allowCidrs: 'GRAFT_NET_ALLOW_CIDRS',
} as const;

function netFlag(env: Readonly<Record<string, string | undefined>>, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${name} must be true or false; got "${env[name]}".`);
}

function names(raw: string | undefined): string[] {
  return raw === undefined ? [] : raw.split(/[\s,]+/).filter(Boolean);
}

/** The network policy as the environment sets it (gateway/netpolicy checks the entries when it compiles it). */
export function networkPolicySettingsFromEnv(env: Readonly<Record<string, string | undefined>>, mode: 'development' | 'production'): NetworkPolicy {
  const base = mode === 'production' ? productionNetworkPolicy() : devNetworkPolicy();
  return {
    allowLoopback: netFlag(env, NETWORK_POLICY_ENV.allowLoopback, base.allowLoopback),
    allowPrivate: netFlag(env, NETWORK_POLICY_ENV.allowPrivate, base.allowPrivate),
    allowHosts: names(env[NETWORK_POLICY_ENV.allowHosts]),
    allowCidrs: names(env[NETWORK_POLICY_ENV.allowCidrs]),
  };
}

/** True for the URLs the PostgreSQL store opens (GRAFT_REGISTRY_URL); anything else is the gateway's HTTP URL for the CLI. */
export function isPostgresUrl(url: string | undefined): url is string {
  return url !== undefined && /^postgres(ql)?:\/\//i.test(url);
}

/**
 * The key encryption key (GRAFT_KEY_ENCRYPTION_KEY) as bytes: 32 of them, written in base64
 * or as 64 hex digits; undefined when it is neither. gateway/upstream seals the shared
 * upstream signing keys with it.
 */
export function parseKeyEncryptionKey(raw: string): Buffer | undefined {
  const text = raw.trim();
  const bytes = /^[0-9a-f]{64}$/i.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  return bytes.length === 32 ? bytes : undefined;
}

/**
 * The schema lint policy (gateway/lint applies it): rule names, and their settings as the
 * gateway config gives them. Rule names are graphql-eslint's where it has the rule.
 */
export const LINT_RULES = ['naming-convention', 'require-description', 'require-list-size', 'require-scopes-on-sensitive-fields', 'forbidden-names'] as const;
export type LintRuleName = (typeof LINT_RULES)[number];
export type LintSeverity = 'off' | 'warn' | 'error';

export interface LintRuleOptions {
  /** require-list-size: argument names that bound a list (its slicing arguments). */
  slicingArguments?: string[];
  /** require-scopes-on-sensitive-fields: field name patterns (`*` any characters, case-insensitive). */
  patterns?: string[];
  /** forbidden-names: name patterns no type, field, argument or enum value may have (`*` any characters, case-insensitive). */
  names?: string[];
}

/** One rule's setting: a severity, or [severity, options] as in ESLint. */
export type LintRuleSetting = LintSeverity | [LintSeverity, LintRuleOptions];

/** The `lint` section of the gateway config (GRAFT_CONFIG). */
export interface LintConfig {
  rules: Partial<Record<LintRuleName, LintRuleSetting>>;
}


const OPTIONS_OF: Record<LintRuleName, ReadonlyArray<keyof LintRuleOptions>> = {
  'naming-convention': [],
  'require-description': [],
  'require-list-size': ['slicingArguments'],
  'require-scopes-on-sensitive-fields': ['patterns'],
  'forbidden-names': ['names'],
};

/**
 * Checks a `lint` config as the gateway reads it at start, and returns it typed. Throws an
 * Error whose message names the rule and says what is allowed (the config turns it into a
 * ConfigError: an invalid policy stops the start instead of being ignored).
 */
export function validateLintConfig(value: unknown): LintConfig {
  if (value === undefined) return { rules: {} };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('lint must be an object { rules: { "<rule>": "off" | "warn" | "error" | [severity, options] } }.');
  const { rules, ...rest } = value as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0) throw new Error(`lint has unknown setting${extra.length === 1 ? '' : 's'} ${extra.map((k) => `"${k}"`).join(', ')}: only "rules".`);
  if (rules === undefined) return { rules: {} };
  if (typeof rules !== 'object' || rules === null || Array.isArray(rules)) throw new Error('lint.rules must be an object of rule name → "off" | "warn" | "error" | [severity, options].');
  const checked: LintConfig['rules'] = {};
  for (const [name, setting] of Object.entries(rules)) {
    if (!(LINT_RULES as readonly string[]).includes(name)) throw new Error(`lint.rules has an unknown rule "${name}": the rules are ${LINT_RULES.join(', ')}.`);
    const rule = name as LintRuleName;
    const [severity, options] = Array.isArray(setting) ? [setting[0], setting[1] ?? {}] : [setting, {}];
    if (Array.isArray(setting) && setting.length > 2) throw new Error(`lint.rules["${rule}"] must be a severity or [severity, options].`);
    if (severity !== 'off' && severity !== 'warn' && severity !== 'error') throw new Error(`lint.rules["${rule}"] has severity ${JSON.stringify(severity)}: use "off", "warn" or "error".`);
    if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new Error(`lint.rules["${rule}"] options must be an object.`);
    for (const [option, optionValue] of Object.entries(options as Record<string, unknown>)) {
      if (!OPTIONS_OF[rule].includes(option as keyof LintRuleOptions)) {
        throw new Error(`lint.rules["${rule}"] has an unknown option "${option}"${OPTIONS_OF[rule].length > 0 ? `: it takes ${OPTIONS_OF[rule].join(', ')}` : ': it takes none'}.`);
      }
      if (!Array.isArray(optionValue) || optionValue.length === 0 || optionValue.some((v) => typeof v !== 'string' || v.trim() === '')) {
        throw new Error(`lint.rules["${rule}"].${option} must be a non-empty list of non-empty strings.`);
      }
    }
    if (rule === 'forbidden-names' && severity !== 'off' && !(options as LintRuleOptions).names) throw new Error('lint.rules["forbidden-names"] needs its names: ["error", { names: ["temp*", ...] }].');
    checked[rule] = Array.isArray(setting) ? [severity, options as LintRuleOptions] : severity;
  }
  return { rules: checked };
}

/** Delivery of signed webhooks (gateway/webhooks). */
export interface WebhookSettings {
  /** Longest wait for an endpoint's answer, per attempt. */
  timeoutMs: number;
  /** Attempts before a delivery is failed for good. */
  maxAttempts: number;
  /** Wait before the second attempt; doubled for each next one, up to retryMaxMs. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** How often the queue is read for due deliveries (besides right after an event). */
  pollMs: number;
}

export const DEFAULT_WEBHOOK_SETTINGS: WebhookSettings = { timeoutMs: 5000, maxAttempts: 8, retryBaseMs: 10_000, retryMaxMs: 3_600_000, pollMs: 1000 };

export type GraftMode = 'development' | 'production';

export interface AuthConfig {
  /** Expected `iss`. In development defaults to the dev issuer. */
  issuer: string | undefined;
  /** Expected `aud`. */
  audience: string;
  jwksUrl: string | undefined;
  jwksFile: string | undefined;
  algorithms: string[];
  clockToleranceSeconds: number;
}

export interface GraftConfig {
  mode: GraftMode;
  host: string;
  port: number;
  dataDir: string;
  logLevel: string;
  auth: AuthConfig;
  upstream: {
    /** Fetch timeout when the manifest names none. */
    defaultTimeoutMs: number;
    /** Ceiling for any manifest's timeoutMs. */
    maxTimeoutMs: number;
    /** One request for the fetches an operation starts together toward one extension (GRAFT_UPSTREAM_BATCHING, default on). */
    batching: boolean;
  } & ResilienceOptions;
  admin: {
    /** Largest admin request body (a manifest plus its SDL). */
    bodyLimitBytes: number;
  };
  /** Largest /graphql request body. */
  graphqlBodyLimitBytes: number;
  authorization: {
    /** filter (Apollo Router's default): drop denied fields; reject: refuse the operation. */
    mode: AuthorizationMode;
    /** Named @policy functions of the verified claims. */
    policies: Record<string, PolicyFunction>;
  };
  cost: {
    /** Largest estimated cost of one operation (COST_ESTIMATED_TOO_EXPENSIVE above). */
    maxCost: number;
    /** List size assumed when neither @listSize nor a slicing argument says. */
    defaultListSize: number;
  };
  /** `iss` of the tokens Graft mints for extensions. */
  upstreamIssuer: string;
  /**
   * The key (32 bytes, base64 or hex) that seals the upstream signing keys shared through a
   * PostgreSQL registry (GRAFT_KEY_ENCRYPTION_KEY, or the file GRAFT_KEY_ENCRYPTION_KEY_FILE
   * names). Set: every replica signs with one key set kept in the registry. Unset: each
   * process keeps its own key in its data dir.
   */
  upstreamKeyEncryptionKey: string | undefined;
  /** Query limits beside cost (depth, aliases, root fields, tokens, directives). */
  limits: QueryLimits;
  /** Which addresses subgraph URLs may resolve to (SSRF); development allows loopback. */
  networkPolicy: NetworkPolicy;
  /** Active health checks and drift detection of every active extension. */
  health: { intervalMs: number; timeoutMs: number };
  /** Publishes per minute per caller on the admin API. */
  publishRateLimitPerMinute: number;
  /** Admin requests per minute one extension key may make (GRAFT_KEY_RATE_LIMIT). */
  keyRateLimitPerMinute: number;
  /** Delivery of signed webhooks (GRAFT_WEBHOOK_*): timeout, attempts, backoff, queue poll. */
  webhooks: WebhookSettings;
  /** Observability: traces, /metrics, request logs (README, "Operating Graft"). */
  telemetry: TelemetryConfig;
  /**
   * The schema lint policy of the publish pipeline (set in GRAFT_CONFIG: `lint: { rules:
   * { 'naming-convention': 'error', ... } }`); every rule off by default.
   */
  lint: LintConfig;
  /** Schema-versioning rules of the publish pipeline. */
  versioning: {
    /** How long a field or enum value must have been @deprecated before a version may remove it (GRAFT_DEPRECATION_DAYS). */
    deprecationDays: number;
  };
  /**
   * Gateway processes `graft start` runs on HOST:PORT (GRAFT_WORKERS; `auto`: one per CPU).
   * 1 is one process, as always; more run under a primary process (gateway/cluster).
   */
  workers: number;
  /**
   * How often a gateway process polls the registry for changes other processes sharing it
   * made (GRAFT_REGISTRY_SYNC_MS), as a safety net beside their notifications; 0: never.
   * Default 2000 with several workers, 0 with one.
   */
  registrySyncMs: number;
  /**
   * Where the registry lives. GRAFT_REGISTRY_URL=postgres://... (or postgresql://) puts it in
   * PostgreSQL, shared by gateway replicas on any number of hosts; unset (or any other URL:
   * the CLI's commands read GRAFT_REGISTRY_URL as the gateway's HTTP address) keeps the
   * embedded SQLite file in dataDir.
   */
  registry: RegistryConfig;
  /** Usage recording and the checks that use it (README, "Usage"). */
  usage: UsageConfig;
  /** Registered operations (the usage frontends depend on). */
  operations: {
    /** *.graphql files registered at start (GRAFT_OPERATIONS_DIR); undefined: none. */
    dir: string | undefined;
    /** Serve only registered operations (GRAFT_SAFELIST=1). */
    safelist: boolean;
  };
}

export interface UsageConfig {
  /** Record which operations run, per client (GRAFT_USAGE, default on; 0 turns it off). */
  enabled: boolean;
  /** Days of usage kept (GRAFT_USAGE_RETENTION_DAYS, default 30); minutes are rolled up into hours after an hour. */
  retentionDays: number;
  /** How often each process writes its counts (GRAFT_USAGE_FLUSH_MS, default 10 000). */
  flushMs: number;
  /** The window of the usage check (GRAFT_USAGE_DAYS, default 7). */
  windowDays: number;
  /** A breaking change no operation used in the window fails like any breaking change (GRAFT_USAGE_STRICT=1); default: it passes, labelled breaking-unused. */
  strict: boolean;
}

export interface RegistryConfig {
  /** The PostgreSQL URL; undefined: SQLite. libpq parameters in it (sslmode, sslrootcert, ...) apply. */
  url: string | undefined;
  /** Connections of the pool (GRAFT_PG_POOL_MAX, default 10); the change watch and the leader lock take one more each. */
  poolMax: number;
  /** Longest statement, enforced by the server (GRAFT_PG_STATEMENT_TIMEOUT_MS, default 10 000). */
  statementTimeoutMs: number;
  /** Longest wait for a connection (GRAFT_PG_CONNECT_TIMEOUT_MS, default 5 000). */
  connectTimeoutMs: number;
  /** PEM file of the CA that signs the server's certificate (GRAFT_PG_SSL_CA): TLS, verified. */
  sslCaFile: string | undefined;
}

export interface TelemetryConfig {
  /**
   * OpenTelemetry traces, from the standard variables: off unless OTEL_TRACES_EXPORTER
   * (otlp, console) or OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is
   * set; OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none turn them off.
   */
  traces: {
    exporter: 'none' | 'otlp' | 'console';
    /** OTLP/HTTP (JSON) traces URL; undefined: the exporter's default (http://localhost:4318/v1/traces). */
    otlpEndpoint: string | undefined;
    /** OTEL_SERVICE_NAME, default graft-gateway. */
    serviceName: string;
  };
  /** Continue a trace whose traceparent a client sent (GRAFT_TRACE_ACCEPT_CLIENT=1); default: each operation starts a trace. */
  acceptClientTraceparent: boolean;
  /** Distinct operation names used as metric labels before the rest become "other" (GRAFT_METRICS_MAX_OPERATIONS). */
  metricsMaxOperations: number;
  /** When set, GET /metrics needs "Authorization: Bearer <token>" (GRAFT_METRICS_TOKEN). */
  metricsToken: string | undefined;
}

export type ConfigOverrides = {
  [K in keyof GraftConfig]?: GraftConfig[K] extends object ? Partial<GraftConfig[K]> : GraftConfig[K];
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}; got "${raw}".`);
  }
  return value;
}

/**
 * Node flags Graft's launchers start the gateway with (`npm start`, the GRAFT_WORKERS
 * workers, the benchmarks). A larger young generation: a gateway allocates a great deal of
 * short-lived garbage per request (subgraph JSON, result shaping), and V8's default 16 MiB
 * semi-space promotes much of it to the old generation before it dies. Garbage collection
 * was 17-19 % of busy time under the Guild benchmark (12.8 % with this flag); 64 MiB measured
 * 1.20x the throughput of 16 MiB on the nested query in an A/B in one run, for ~110 MiB more
 * peak RSS (README, "Performance"). Other launchers: set
 * NODE_OPTIONS="--max-semi-space-size=64".
 */
export const GRAFT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];

/** More workers than this is a typo, not a deployment. */
const MAX_WORKERS = 256;
const DEFAULT_REGISTRY_SYNC_MS = 2000;
/**
 * On PostgreSQL the change nudge (LISTEN/NOTIFY) is what makes replicas converge; the poll
 * (one indexed read per replica, jittered) is the fallback for a nudge lost while the
 * watch connection was re-opening, frequent enough that a release is served everywhere
 * within 2 s even then.
 */
const POSTGRES_REGISTRY_SYNC_MS = 1000;

function workersFrom(env: NodeJS.ProcessEnv): number {
  const raw = env['GRAFT_WORKERS'];
  if (raw === undefined || raw === '') return 1;
  if (raw === 'auto') return Math.min(availableParallelism(), MAX_WORKERS);
  const value = Number(raw);
  if (!/^[0-9]+$/.test(raw) || value < 1 || value > MAX_WORKERS) {
    throw new ConfigError(`GRAFT_WORKERS must be a whole number of processes from 1 to ${MAX_WORKERS}, or "auto" (one per CPU); got "${raw}".`);
  }
  return value;
}

function list(raw: string | undefined, fallback: string[]): string[] {
  if (raw === undefined || raw.trim() === '') return fallback;
  return raw.split(/[\s,]+/).filter(Boolean);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: ConfigOverrides = {}): GraftConfig {
  const mode: GraftMode = env['NODE_ENV'] === 'production' ? 'production' : 'development';
  const config: GraftConfig = {
    mode,
    host: env['HOST'] || '127.0.0.1',
    port: integer(env, 'PORT', 4000, 0, 65535),
    dataDir: resolve(env['GRAFT_DATA_DIR'] || '.graft'),
    logLevel: env['GRAFT_LOG_LEVEL'] || (mode === 'production' ? 'info' : 'info'),
    auth: {
      issuer: env['GRAFT_JWT_ISSUER'] || undefined,
      audience: env['GRAFT_JWT_AUDIENCE'] || 'graft',
      jwksUrl: env['GRAFT_JWKS_URL'] || undefined,
      jwksFile: env['GRAFT_JWKS_FILE'] || undefined,
      algorithms: list(env['GRAFT_JWT_ALGORITHMS'], ['EdDSA', 'ES256', 'RS256']),
      clockToleranceSeconds: integer(env, 'GRAFT_JWT_CLOCK_TOLERANCE_S', 30, 0, 300),
    },
    upstream: {
      defaultTimeoutMs: integer(env, 'GRAFT_UPSTREAM_TIMEOUT_MS', 5000, 1, 120_000),
      maxTimeoutMs: integer(env, 'GRAFT_UPSTREAM_MAX_TIMEOUT_MS', 30_000, 1, 120_000),
      batching: (env['GRAFT_UPSTREAM_BATCHING'] ?? '') === '' ? true : flag(env, 'GRAFT_UPSTREAM_BATCHING'),
      maxConcurrent: integer(env, 'GRAFT_UPSTREAM_MAX_CONCURRENT', DEFAULT_RESILIENCE.maxConcurrent, 1, 10_000),
      retries: integer(env, 'GRAFT_UPSTREAM_RETRIES', DEFAULT_RESILIENCE.retries, 0, 5),
      breakerConsecutiveFailures: integer(env, 'GRAFT_BREAKER_CONSECUTIVE_FAILURES', DEFAULT_RESILIENCE.breakerConsecutiveFailures, 1, 1000),
      breakerFailureRate: DEFAULT_RESILIENCE.breakerFailureRate,
      breakerWindow: integer(env, 'GRAFT_BREAKER_WINDOW', DEFAULT_RESILIENCE.breakerWindow, 2, 10_000),
      breakerHalfOpenAfterMs: integer(env, 'GRAFT_BREAKER_HALF_OPEN_AFTER_MS', DEFAULT_RESILIENCE.breakerHalfOpenAfterMs, 10, 600_000),
    },
    admin: { bodyLimitBytes: integer(env, 'GRAFT_ADMIN_BODY_LIMIT', 1024 * 1024, 1024, 64 * 1024 * 1024) },
    graphqlBodyLimitBytes: integer(env, 'GRAFT_GRAPHQL_BODY_LIMIT', 256 * 1024, 1024, 64 * 1024 * 1024),
    authorization: { mode: authorizationMode(env['GRAFT_AUTHZ_MODE']), policies: {} },
    cost: {
      maxCost: integer(env, 'GRAFT_MAX_COST', 10_000, 1, Number.MAX_SAFE_INTEGER),
      defaultListSize: integer(env, 'GRAFT_DEFAULT_LIST_SIZE', 10, 1, 100_000),
    },
    upstreamIssuer: env['GRAFT_UPSTREAM_ISSUER'] || 'graft-gateway',
    upstreamKeyEncryptionKey: keyEncryptionKeyFrom(env),
    networkPolicy: networkPolicySettingsFromEnv(env, mode),
    health: {
      intervalMs: integer(env, 'GRAFT_HEALTH_INTERVAL_MS', 30_000, 1_000, 3_600_000),
      timeoutMs: integer(env, 'GRAFT_HEALTH_TIMEOUT_MS', 2_000, 100, 60_000),
    },
    publishRateLimitPerMinute: integer(env, 'GRAFT_PUBLISH_RATE_LIMIT', 30, 1, 100_000),
    // graft check --registry makes a few reads per active extension: 120 leaves room for a
    // large graph, and still caps a leaked key.
    keyRateLimitPerMinute: integer(env, 'GRAFT_KEY_RATE_LIMIT', 120, 1, 100_000),
    webhooks: {
      timeoutMs: integer(env, 'GRAFT_WEBHOOK_TIMEOUT_MS', DEFAULT_WEBHOOK_SETTINGS.timeoutMs, 10, 60_000),
      maxAttempts: integer(env, 'GRAFT_WEBHOOK_MAX_ATTEMPTS', DEFAULT_WEBHOOK_SETTINGS.maxAttempts, 1, 50),
      retryBaseMs: integer(env, 'GRAFT_WEBHOOK_RETRY_BASE_MS', DEFAULT_WEBHOOK_SETTINGS.retryBaseMs, 1, 3_600_000),
      retryMaxMs: integer(env, 'GRAFT_WEBHOOK_RETRY_MAX_MS', DEFAULT_WEBHOOK_SETTINGS.retryMaxMs, 1, 86_400_000),
      pollMs: integer(env, 'GRAFT_WEBHOOK_POLL_MS', DEFAULT_WEBHOOK_SETTINGS.pollMs, 10, 600_000),
    },
    telemetry: {
      traces: tracesFromEnv(env),
      acceptClientTraceparent: flag(env, 'GRAFT_TRACE_ACCEPT_CLIENT'),
      metricsMaxOperations: integer(env, 'GRAFT_METRICS_MAX_OPERATIONS', 200, 0, 100_000),
      metricsToken: env['GRAFT_METRICS_TOKEN'] || undefined,
    },
    versioning: { deprecationDays: integer(env, 'GRAFT_DEPRECATION_DAYS', 14, 0, 3650) },
    lint: { rules: {} },
    workers: workersFrom(env),
    registrySyncMs: integer(env, 'GRAFT_REGISTRY_SYNC_MS', 0, 0, 3_600_000),
    registry: {
      url: isPostgresUrl(env['GRAFT_REGISTRY_URL']) ? env['GRAFT_REGISTRY_URL'] : undefined,
      poolMax: integer(env, 'GRAFT_PG_POOL_MAX', 10, 1, 1000),
      statementTimeoutMs: integer(env, 'GRAFT_PG_STATEMENT_TIMEOUT_MS', 10_000, 100, 600_000),
      connectTimeoutMs: integer(env, 'GRAFT_PG_CONNECT_TIMEOUT_MS', 5_000, 100, 120_000),
      sslCaFile: env['GRAFT_PG_SSL_CA'] ? resolve(env['GRAFT_PG_SSL_CA']) : undefined,
    },
    usage: {
      enabled: env['GRAFT_USAGE'] === undefined || env['GRAFT_USAGE'] === '' ? true : flag(env, 'GRAFT_USAGE'),
      retentionDays: integer(env, 'GRAFT_USAGE_RETENTION_DAYS', 30, 1, 3650),
      flushMs: integer(env, 'GRAFT_USAGE_FLUSH_MS', 10_000, 100, 3_600_000),
      windowDays: integer(env, 'GRAFT_USAGE_DAYS', 7, 1, 3650),
      strict: flag(env, 'GRAFT_USAGE_STRICT'),
    },
    operations: {
      dir: env['GRAFT_OPERATIONS_DIR'] ? resolve(env['GRAFT_OPERATIONS_DIR']) : undefined,
      safelist: flag(env, 'GRAFT_SAFELIST'),
    },
    limits: {
      maxDepth: integer(env, 'GRAFT_MAX_DEPTH', DEFAULT_QUERY_LIMITS.maxDepth, 1, 1000),
      maxAliases: integer(env, 'GRAFT_MAX_ALIASES', DEFAULT_QUERY_LIMITS.maxAliases, 0, 10_000),
      maxRootFields: integer(env, 'GRAFT_MAX_ROOT_FIELDS', DEFAULT_QUERY_LIMITS.maxRootFields, 1, 10_000),
      maxTokens: integer(env, 'GRAFT_MAX_TOKENS', DEFAULT_QUERY_LIMITS.maxTokens, 10, 1_000_000),
      maxDirectives: integer(env, 'GRAFT_MAX_DIRECTIVES', DEFAULT_QUERY_LIMITS.maxDirectives, 0, 10_000),
    },
  };
  const merged: GraftConfig = {
    ...config,
    ...overrides,
    auth: { ...config.auth, ...overrides.auth },
    upstream: { ...config.upstream, ...overrides.upstream },
    admin: { ...config.admin, ...overrides.admin },
    authorization: { ...config.authorization, ...overrides.authorization },
    cost: { ...config.cost, ...overrides.cost },
    limits: { ...config.limits, ...overrides.limits },
    health: { ...config.health, ...overrides.health },
    versioning: { ...config.versioning, ...overrides.versioning },
    operations: { ...config.operations, ...overrides.operations },
    usage: { ...config.usage, ...overrides.usage },
    telemetry: { ...config.telemetry, ...overrides.telemetry },
    lint: lintOf(overrides.lint),
    webhooks: { ...config.webhooks, ...overrides.webhooks },
    registry: { ...config.registry, ...overrides.registry },
  } as GraftConfig;
  // The poll's default follows the number of workers, wherever that came from.
  const syncUnset = env['GRAFT_REGISTRY_SYNC_MS'] === undefined || env['GRAFT_REGISTRY_SYNC_MS'] === '';
  if (overrides.registrySyncMs === undefined && syncUnset) {
    merged.registrySyncMs = merged.registry.url ? POSTGRES_REGISTRY_SYNC_MS : merged.workers > 1 ? DEFAULT_REGISTRY_SYNC_MS : 0;
  }
  validate(merged);
  return merged;
}

/** An invalid lint policy stops the start: a rule silently ignored is a rule not applied. */
function lintOf(value: unknown): LintConfig {
  try {
    return validateLintConfig(value);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
}

function keyEncryptionKeyFrom(env: NodeJS.ProcessEnv): string | undefined {
  const file = env['GRAFT_KEY_ENCRYPTION_KEY_FILE'];
  let raw = env['GRAFT_KEY_ENCRYPTION_KEY'] || undefined;
  if (file) {
    try {
      raw = readFileSync(resolve(file), 'utf8');
    } catch (error) {
      throw new ConfigError(`GRAFT_KEY_ENCRYPTION_KEY_FILE=${file} cannot be read: ${(error as Error).message}`);
    }
  }
  if (raw === undefined) return undefined;
  if (!parseKeyEncryptionKey(raw)) {
    throw new ConfigError('GRAFT_KEY_ENCRYPTION_KEY must be 32 random bytes in base64 (or 64 hex digits): create one with `openssl rand -base64 32`.');
  }
  return raw.trim();
}

function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '' || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  throw new ConfigError(`${name} must be 1 or 0 (true or false); got "${raw}".`);
}

/** The OTEL_* variables of the OpenTelemetry specification that Graft honours for traces. */
function tracesFromEnv(env: NodeJS.ProcessEnv): TelemetryConfig['traces'] {
  const serviceName = env['OTEL_SERVICE_NAME'] || 'graft-gateway';
  const tracesEndpoint = env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] || undefined;
  const baseEndpoint = env['OTEL_EXPORTER_OTLP_ENDPOINT'] || undefined;
  const otlpEndpoint = tracesEndpoint ?? (baseEndpoint ? `${baseEndpoint.replace(/\/+$/, '')}/v1/traces` : undefined);
  if (otlpEndpoint && !/^https?:\/\//.test(otlpEndpoint)) {
    throw new ConfigError(`OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL; got "${otlpEndpoint}".`);
  }
  const protocol = env['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'] || env['OTEL_EXPORTER_OTLP_PROTOCOL'];
  if (protocol === 'grpc') throw new ConfigError('OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported: Graft exports OTLP over HTTP (JSON, port 4318).');
  const off = { exporter: 'none' as const, otlpEndpoint, serviceName };
  if (env['OTEL_SDK_DISABLED'] === 'true') return off;
  const named = list(env['OTEL_TRACES_EXPORTER'], []);
  for (const exporter of named) {
    if (!['otlp', 'console', 'none'].includes(exporter)) {
      throw new ConfigError(`OTEL_TRACES_EXPORTER may be otlp, console or none; got "${exporter}".`);
    }
  }
  if (named.length === 0) return otlpEndpoint ? { ...off, exporter: 'otlp' } : off;
  if (named.includes('otlp')) return { ...off, exporter: 'otlp' };
  if (named.includes('console')) return { ...off, exporter: 'console' };
  return off;
}

function authorizationMode(raw: string | undefined): AuthorizationMode {
  if (raw === undefined || raw === '' || raw === 'filter') return 'filter';
  if (raw === 'reject') return 'reject';
  throw new ConfigError(`GRAFT_AUTHZ_MODE must be "filter" or "reject"; got "${raw}".`);
}

/**
 * The optional config file (GRAFT_CONFIG): an ES module (.js, .mjs or .ts) whose default
 * export is a ConfigOverrides object. It is code because @policy functions are code:
 *
 *   export default { authorization: { policies: { 'tenant-admin': (p) => p.claims.role === 'admin' } } };
 *
 * Its settings win over environment variables; overrides passed by code win over both.
 */
/** Whether a TypeScript loader runs this code (tsx: tests, `graft dev`); compiled Graft (dist/) has none. */
const UNDER_TYPESCRIPT_LOADER = import.meta.url.endsWith('.ts');
let tsxRegistered = false;

/**
 * Imports a user's own module by URL (GRAFT_CONFIG, an extension's codegen.ts): a
 * TypeScript one through tsx's loader, registered at its first need, since compiled Graft
 * (dist/) runs without one.
 */
export async function importUserModule(url: string): Promise<unknown> {
  if (/\.[cm]?ts(\?|$)/.test(url) && !UNDER_TYPESCRIPT_LOADER && !tsxRegistered) {
    const { register } = await import('tsx/esm/api');
    register();
    tsxRegistered = true;
  }
  return import(url);
}

export async function loadGraftConfig(env: NodeJS.ProcessEnv = process.env, overrides: ConfigOverrides = {}): Promise<GraftConfig> {
  const file = env['GRAFT_CONFIG'];
  let fromFile: ConfigOverrides = {};
  if (file) {
    let module: { default?: unknown };
    try {
      module = (await importUserModule(pathToFileURL(resolve(file)).href)) as { default?: unknown };
    } catch (error) {
      throw new ConfigError(`Cannot load GRAFT_CONFIG=${file}: ${(error as Error).message}`);
    }
    if (typeof module.default !== 'object' || module.default === null) {
      throw new ConfigError(`GRAFT_CONFIG=${file} must export default an object of settings.`);
    }
    fromFile = module.default as ConfigOverrides;
    for (const [name, policy] of Object.entries(fromFile.authorization?.policies ?? {})) {
      if (typeof policy !== 'function') throw new ConfigError(`authorization.policies.${name} in ${file} must be a function of the principal.`);
    }
  }
  const fromEnv = loadConfig(env, {});
  const defined = (section: Record<string, unknown> | undefined) =>
    Object.fromEntries(Object.entries(section ?? {}).filter(([, v]) => v !== undefined));
  return loadConfig(env, {
    ...fromFile,
    ...overrides,
    auth: { ...defined(fromFile.auth), ...defined(overrides.auth) },
    upstream: { ...defined(fromFile.upstream), ...defined(overrides.upstream) },
    admin: { ...defined(fromFile.admin), ...defined(overrides.admin) },
    authorization: {
      mode: overrides.authorization?.mode ?? fromFile.authorization?.mode ?? fromEnv.authorization.mode,
      policies: { ...fromFile.authorization?.policies, ...overrides.authorization?.policies },
    },
    cost: { ...defined(fromFile.cost), ...defined(overrides.cost) },
    limits: { ...defined(fromFile.limits), ...defined(overrides.limits) },
    health: { ...defined(fromFile.health), ...defined(overrides.health) },
    versioning: { ...defined(fromFile.versioning), ...defined(overrides.versioning) },
    operations: { ...defined(fromFile.operations), ...defined(overrides.operations) },
    usage: { ...defined(fromFile.usage), ...defined(overrides.usage) },
    telemetry: { ...defined(fromFile.telemetry), ...defined(overrides.telemetry) },
    webhooks: { ...defined(fromFile.webhooks), ...defined(overrides.webhooks) },
    ...(overrides.lint ?? fromFile.lint ? { lint: (overrides.lint ?? fromFile.lint) as LintConfig } : {}),
    registry: { ...defined(fromFile.registry), ...defined(overrides.registry) },
  });
}

function validate(config: GraftConfig): void {
  const { auth } = config;
  if (config.mode === 'production') {
    if (!auth.issuer) throw new ConfigError('GRAFT_JWT_ISSUER is required when NODE_ENV=production.');
    if (!auth.jwksUrl && !auth.jwksFile) {
      throw new ConfigError('Set GRAFT_JWKS_URL or GRAFT_JWKS_FILE when NODE_ENV=production (the dev issuer is for development only).');
    }
  }
  if (auth.jwksUrl && !/^https?:\/\//.test(auth.jwksUrl)) throw new ConfigError('GRAFT_JWKS_URL must be an http(s) URL.');
  for (const alg of auth.algorithms) {
    if (alg === 'none' || alg.startsWith('HS')) {
      throw new ConfigError(`GRAFT_JWT_ALGORITHMS may not contain "${alg}": Graft verifies asymmetric signatures only.`);
    }
  }
  if (!Number.isInteger(config.workers) || config.workers < 1 || config.workers > MAX_WORKERS) {
    throw new ConfigError(`workers must be a whole number from 1 to ${MAX_WORKERS}; got ${String(config.workers)}.`);
  }
  if (config.registry.url !== undefined && !isPostgresUrl(config.registry.url)) {
    throw new ConfigError(`registry.url must be a postgres:// or postgresql:// URL; got "${String(config.registry.url).replace(/\/\/[^@/]*@/, '//***@')}".`);
  }
  if (config.upstream.defaultTimeoutMs > config.upstream.maxTimeoutMs) {
    throw new ConfigError('GRAFT_UPSTREAM_TIMEOUT_MS cannot exceed GRAFT_UPSTREAM_MAX_TIMEOUT_MS.');
  }
}
