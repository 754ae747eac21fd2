// The edge guard: what GraftGateway runs for each operation before planning. Everything
// derived from the supergraph (directive metadata, cost tables) is built once per
// supergraph in `prepare`; `guard` does one walk of the operation per request.
import { createHash } from 'node:crypto';
import type { GatewayExecutionResult, GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import { print, type GraphQLError, type GraphQLSchema } from 'graphql';
import { ANONYMOUS, type Principal } from '../auth/index.js';
import { extractFieldOwnership } from '../composition/index.js';
import { extractAuthorizationMetadata } from './metadata.js';
import {
  OperationAuthorizer,
  deniedErrors,
  forbiddenError,
  insertDeniedNulls,
  removePlaceholders,
  type AuthorizationMode,
  type PolicyFunction,
} from './authorize.js';

export interface EdgeGuardOptions {
  mode: AuthorizationMode;
  policies: Readonly<Record<string, PolicyFunction>>;
  /** Extra per-operation checks run on the document that will execute (cost, ...). */
  checks?: ReadonlyArray<OperationCheckFactory>;
  /** Per-tenant enablement of extensions (the runtime table). */
  tenants?: { isEnabledFor(extension: string, tenant: string | undefined): boolean; readonly hasTenantRestrictions: boolean };
}

/** A check built once per supergraph; returns errors to refuse the operation with. */
export type OperationCheckFactory = (supergraph: { sdl: string; apiSchema: GraphQLSchema }) => OperationCheck;
export type OperationCheck = (input: {
  document: GatewayGraphQLRequestContext['document'];
  operationName: string | null;
  variables: Record<string, unknown>;
  principal: Principal;
  /** Where a check leaves what it learned, for telemetry (the cost check: estimatedCost). */
  facts?: EdgeFacts;
}) => readonly GraphQLError[] | undefined;

/**
 * What the edge learned about an operation, for telemetry (logs, metrics, spans). decide()
 * puts it on the request context as `edgeFacts` (GraftContext), refused operations included.
 */
export interface EdgeFacts {
  /** Static cost of the operation that executes (after authorization filtering). */
  estimatedCost?: number;
}

export type GuardDecision =
  | { kind: 'execute'; requestContext: GatewayGraphQLRequestContext; finish?: (result: GatewayExecutionResult) => GatewayExecutionResult }
  | { kind: 'respond'; result: GatewayExecutionResult };

export interface EdgeGuard {
  decide(requestContext: GatewayGraphQLRequestContext): GuardDecision;
}

export function principalOf(requestContext: GatewayGraphQLRequestContext): Principal {
  return (requestContext.context as { principal?: Principal }).principal ?? ANONYMOUS;
}

export function prepareEdgeGuard(options: EdgeGuardOptions, supergraph: { sdl: string; apiSchema: GraphQLSchema }): EdgeGuard {
  const tenants = options.tenants;
  const ownership = tenants ? extractFieldOwnership(supergraph.sdl) : undefined;
  const authorizer = new OperationAuthorizer(
    supergraph.apiSchema,
    extractAuthorizationMetadata(supergraph.sdl),
    options.policies,
    tenants && ownership
      ? {
          ownersOf: ownership.ownersOf,
          isEnabledFor: (extension, tenant) => tenants.isEnabledFor(extension, tenant),
          get hasTenantRestrictions() {
            return tenants.hasTenantRestrictions;
          },
        }
      : undefined,
  );
  const checks = (options.checks ?? []).map((factory) => factory(supergraph));

  return {
    decide(requestContext) {
      const principal = principalOf(requestContext);
      const operationName = requestContext.operationName ?? requestContext.request.operationName ?? null;
      const facts: EdgeFacts = {};
      const context = requestContext.context as { edgeFacts?: EdgeFacts } | undefined;
      if (context && typeof context === 'object') context.edgeFacts = facts;
      const outcome = authorizer.authorize(requestContext.document, operationName, principal, requestContext.request.variables);

      if (outcome.denied.length > 0 && options.mode === 'reject') {
        return { kind: 'respond', result: { errors: [forbiddenError(outcome.denied)] } };
      }
      if (outcome.empty) {
        return { kind: 'respond', result: { data: insertDeniedNulls({}, outcome.denied), errors: deniedErrors(outcome.denied, principal) } };
      }
      // Checks (cost) run on what will execute: a removed field costs nothing.
      for (const check of checks) {
        const errors = check({ document: outcome.document, operationName, variables: requestContext.request.variables ?? {}, principal, facts });
        if (errors && errors.length > 0) return { kind: 'respond', result: { errors: [...errors] } };
      }
      if (outcome.denied.length === 0) return { kind: 'execute', requestContext };

      const errors = deniedErrors(outcome.denied, principal);
      // The filtered document is a different operation: it gets its own query-plan cache key.
      const source = print(outcome.document);
      const filtered = Object.create(requestContext) as GatewayGraphQLRequestContext;
      Object.defineProperties(filtered, {
        document: { value: outcome.document },
        source: { value: source },
        queryHash: { value: createHash('sha256').update(source).digest('hex') },
        operation: { value: outcome.document.definitions[0] },
      });
      return {
        kind: 'execute',
        requestContext: filtered,
        finish: (result) => {
          removePlaceholders(result.data, outcome.placeholders);
          return {
            ...result,
            data: insertDeniedNulls(result.data ?? null, outcome.denied),
            errors: [...(result.errors ?? []), ...errors],
          };
        },
      };
    },
  };
}
