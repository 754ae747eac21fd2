// Registered operations at /graphql, as an Apollo Server plugin.
//
// Lookup (always on): a request that names a registered operation without sending its text
// gets the registered document, found by
//   - `extensions.persistedQuery.sha256Hash` (Apollo's persisted-query protocol: the sha256
//     of the document exactly as registered; Apollo Server then checks the hash itself), or
//   - `operationName` alone (no query, no hash): Graft's shorthand for GET links and tools.
//
// Safelisting (GRAFT_SAFELIST=1): only registered operations run. A document is registered
// when its sha256 is a registered document's (Apollo Server computes that hash anyway), or
// when it prints the same as one (graphql-js `print`: layout and comments do not matter).
// Anything else is refused with OPERATION_NOT_REGISTERED (HTTP 400) before it is parsed or
// validated, so an unregistered document learns nothing about the schema. Introspection is
// an operation like any other: refused unless registered.
//
// How the refusal happens before validation with the plugin API alone: Apollo Server reads
// `request.query` only after every requestDidStart hook has run, and an error thrown by a
// hook before didResolveOperation becomes a masked 500. So requestDidStart swaps the refused
// document for a trivial placeholder (valid against any schema) and the placeholder's
// didResolveOperation throws the refusal, which Apollo Server answers like any request error.
import type { ApolloServerPlugin, BaseContext, GraphQLRequestListener } from '@apollo/server';
import { GraphQLError, Kind, parse } from 'graphql';
import { GraftErrorCode } from '../errors/index.js';
import { normalizedHashOf, sha256Hex, type OperationRegistry } from './registry.js';

export interface SafelistOptions {
  registry: OperationRegistry;
  /** Refuse operations that are not registered (GRAFT_SAFELIST); false: lookup only. */
  enforce: boolean;
}

/** How many "is this document registered?" answers are kept, keyed by Apollo's query hash. */
const VERDICT_CACHE_SIZE = 2000;

interface Verdict {
  registered: boolean;
  /** The name of the document's one operation, for the refusal message. */
  operationName?: string;
}

/** What a refused request runs instead of its document, up to didResolveOperation. */
const PLACEHOLDER_NAME = 'GraftOperationNotRegistered';
const PLACEHOLDER = `query ${PLACEHOLDER_NAME} { __typename }`;

function persistedHashOf(extensions: Record<string, unknown> | undefined): string | undefined {
  const persisted = extensions?.['persistedQuery'];
  if (typeof persisted !== 'object' || persisted === null) return undefined;
  const hash = (persisted as { sha256Hash?: unknown }).sha256Hash;
  return typeof hash === 'string' ? hash.toLowerCase() : undefined;
}

export function notRegisteredError(operationName: string | undefined, registry: OperationRegistry): GraphQLError {
  const known = operationName !== undefined ? registry.byName(operationName) : undefined;
  const message = known
    ? `This gateway serves registered operations only, and this document is not the one registered as ${operationName}: send the registered document, or refer to it by extensions.persistedQuery.sha256Hash or by operationName alone.`
    : `This gateway serves registered operations only (safelisting) and ${operationName ? `no operation named ${operationName} is` : 'this document is not'} registered: ask a platform admin to register it (POST /admin/operations), or send a registered one.`;
  return new GraphQLError(message, { extensions: { code: GraftErrorCode.OPERATION_NOT_REGISTERED, http: { status: 400 } } });
}

export function safelistPlugin(options: SafelistOptions): ApolloServerPlugin<BaseContext> {
  const { registry, enforce } = options;
  let cacheGeneration = registry.generation;
  const verdicts = new Map<string, Verdict>();

  /** Is this document registered, exactly or up to layout? */
  const verdictOf = (source: string): Verdict => {
    const queryHash = sha256Hex(source);
    if (registry.byHash(queryHash)) return { registered: true };
    if (cacheGeneration !== registry.generation) {
      verdicts.clear();
      cacheGeneration = registry.generation;
    }
    const cached = verdicts.get(queryHash);
    if (cached !== undefined) return cached;
    let verdict: Verdict = { registered: false };
    try {
      const document = parse(source, registry.parseOptions);
      const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
      const name = operations.length === 1 ? operations[0]!.name?.value : undefined;
      verdict = { registered: registry.byNormalizedHash(normalizedHashOf(document)) !== undefined, ...(name ? { operationName: name } : {}) };
    } catch {
      // does not parse (or exceeds the token limit): certainly not registered
    }
    if (verdicts.size >= VERDICT_CACHE_SIZE) verdicts.clear();
    verdicts.set(queryHash, verdict);
    return verdict;
  };

  return {
    async requestDidStart({ request }): Promise<GraphQLRequestListener<BaseContext>> {
      if (request.query === undefined || request.query === '') {
        const hash = persistedHashOf(request.extensions);
        const found = hash !== undefined ? registry.byHash(hash) : request.operationName ? registry.byName(request.operationName) : undefined;
        if (found) request.query = found.document;
      }
      // No text yet (an unknown persisted-query hash): Apollo Server answers
      // PERSISTED_QUERY_NOT_FOUND and the client sends the text, which is checked then.
      if (!enforce || typeof request.query !== 'string' || request.query === '') return {};
      const verdict = verdictOf(request.query);
      if (verdict.registered) return {};

      const operationName = request.operationName ?? verdict.operationName;
      request.query = PLACEHOLDER;
      request.operationName = PLACEHOLDER_NAME;
      if (request.extensions?.['persistedQuery'] !== undefined) {
        const { persistedQuery: _ignored, ...extensions } = request.extensions;
        request.extensions = extensions;
      }
      return {
        async didResolveOperation() {
          throw notRegisteredError(operationName, registry);
        },
      };
    },
  };
}
