// The SDK's own access model: which requirement guards which field, and how a requirement
// is judged. It mirrors Apollo's authorization directives:
//   @authenticated            the request is not anonymous;
//   @requiresScopes(scopes:)  outer list OR, inner list AND, against the token's scopes;
//   @policy(policies:)        same shape, each name judged by the extension's own function,
//                             which sees the parent value (e.g. "owner of this record").
// A directive on a field guards that field. A directive on a type (object, scalar, enum)
// guards every field returning that type and, for an object, each of its own fields.
// Several directives on one field are ANDed.
//
// Enforcement per resolver is done by ./shield.ts (graphql-shield); nothing here knows
// about it, so the engine can be replaced without touching this model or the public API.
import {
  GraphQLError,
  getNamedType,
  isIntrospectionType,
  isObjectType,
  type GraphQLResolveInfo,
  type GraphQLSchema,
} from 'graphql';
import type { ExtensionAuth } from './auth.js';
import type { ExtensionContext } from './context.js';
import type { Alternatives, AppliedDirectives, SdlDirectives } from './directives.js';
import type { ExtensionResolvers } from './resolvers.js';

/**
 * A named `@policy` rule: true allows, anything else (false, a throw, a rejected promise)
 * refuses. It is called for each guarded field with that field's parent value, arguments
 * and context (for a type-level @policy: on the fields returning the type, with the object
 * holding the field as parent, and on each of the type's own fields, with the record itself).
 */
export type ExtensionPolicy<TContext extends ExtensionContext = ExtensionContext> = (
  parent: any,
  args: any,
  context: TContext,
  info: GraphQLResolveInfo,
) => boolean | Promise<boolean>;

export type ExtensionPolicies<TContext extends ExtensionContext = ExtensionContext> = Readonly<Record<string, ExtensionPolicy<TContext>>>;

export const UNAUTHORIZED_CODE = 'UNAUTHORIZED_FIELD_OR_TYPE';

/** What a field needs; every listed clause must hold. Normalized: sorted and deduplicated. */
export interface AccessRequirement {
  readonly authenticated: boolean;
  readonly scopes: readonly Alternatives[];
  readonly policies: readonly Alternatives[];
}

/** Requirements by object type, then field: fields not listed are open. */
export type AccessPlan = ReadonlyMap<string, ReadonlyMap<string, AccessRequirement>>;

/** Federation's own root fields: guarded per entity type (see guardEntityReferences), not by Query's type-level directives. */
const FEDERATION_ROOT_FIELDS = new Set(['_entities', '_service']);

function normalizeAlternatives(alternatives: Alternatives): string[][] {
  const byKey = new Map<string, string[]>();
  for (const all of alternatives) {
    const sorted = [...new Set(all)].sort();
    byKey.set(JSON.stringify(sorted), sorted);
  }
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, all]) => all);
}

function normalizeClauses(clauses: readonly Alternatives[]): string[][][] {
  const byKey = new Map<string, string[][]>();
  for (const clause of clauses) {
    const normalized = normalizeAlternatives(clause);
    byKey.set(JSON.stringify(normalized), normalized);
  }
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, clause]) => clause);
}

function combine(parts: ReadonlyArray<AppliedDirectives | undefined>): AccessRequirement | undefined {
  let authenticated = false;
  const scopes: Alternatives[] = [];
  const policies: Alternatives[] = [];
  for (const part of parts) {
    if (!part) continue;
    authenticated ||= part.authenticated;
    scopes.push(...part.scopes);
    policies.push(...part.policies);
  }
  if (!authenticated && scopes.length === 0 && policies.length === 0) return undefined;
  return { authenticated, scopes: normalizeClauses(scopes), policies: normalizeClauses(policies) };
}

/** Type-level requirement of a type, if any. */
export function typeRequirement(directives: SdlDirectives, typeName: string): AccessRequirement | undefined {
  return combine([directives.types.get(typeName)]);
}

/** The requirement of every guarded field of every object type. */
export function buildAccessPlan(schema: GraphQLSchema, directives: SdlDirectives): AccessPlan {
  const plan = new Map<string, Map<string, AccessRequirement>>();
  const queryType = schema.getQueryType();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || isIntrospectionType(type)) continue;
    const ownType = directives.types.get(type.name);
    for (const field of Object.values(type.getFields())) {
      if (type === queryType && FEDERATION_ROOT_FIELDS.has(field.name)) continue;
      const requirement = combine([
        directives.fields.get(type.name)?.get(field.name),
        ownType,
        directives.types.get(getNamedType(field.type).name),
      ]);
      if (!requirement) continue;
      let fields = plan.get(type.name);
      if (!fields) plan.set(type.name, (fields = new Map()));
      fields.set(field.name, requirement);
    }
  }
  return plan;
}

/** Identifies the context-only part (authentication, scopes): equal keys mean equal verdicts within one request. */
export function contextKey(requirement: AccessRequirement): string | undefined {
  if (!requirement.authenticated && requirement.scopes.length === 0) return undefined;
  return JSON.stringify({ authenticated: requirement.authenticated, scopes: requirement.scopes });
}

/** Identifies the policy part; undefined when the requirement names no policy. */
export function policyKey(requirement: AccessRequirement): string | undefined {
  return requirement.policies.length === 0 ? undefined : JSON.stringify(requirement.policies);
}

function describe(alternatives: Alternatives): string {
  const quoted = alternatives.map((all) => all.map((name) => `"${name}"`));
  if (quoted.length === 1) return quoted[0]!.join(' and ');
  return quoted.map((all) => (all.length === 1 ? all[0] : `(${all.join(' and ')})`)).join(' or ');
}

/** Throws naming each @policy name the SDL uses that `policies` does not define. */
export function assertPoliciesDefined(directives: SdlDirectives, policies: Readonly<Record<string, unknown>>, extension: string): void {
  const problems: string[] = [];
  const check = (applied: AppliedDirectives, where: string): void => {
    for (const name of new Set(applied.policies.flat(2))) {
      if (!Object.hasOwn(policies, name) || typeof policies[name] !== 'function') problems.push(`"${name}" (${where})`);
    }
  };
  for (const [typeName, applied] of directives.types) check(applied, `type ${typeName}`);
  for (const [typeName, fields] of directives.fields) for (const [fieldName, applied] of fields) check(applied, `${typeName}.${fieldName}`);
  if (problems.length > 0) {
    throw new Error(
      `Extension "${extension}" uses @policy names it does not define: ${problems.join(', ')}. ` +
        'Add them to defineExtension({ policies: { <name>: (parent, args, context) => boolean } }).',
    );
  }
}

interface WarnLogger {
  warn(...args: unknown[]): void;
}

/** Judges requirements for one extension. */
export class AccessControl {
  readonly #extension: string;
  readonly #policies: ExtensionPolicies<any>;
  readonly #logger: WarnLogger;

  constructor(extension: string, policies: ExtensionPolicies<any>, logger: WarnLogger) {
    this.#extension = extension;
    this.#policies = policies;
    this.#logger = logger;
  }

  denied(reason: string): GraphQLError {
    return new GraphQLError(`Unauthorized field or type: ${reason}.`, {
      extensions: { code: UNAUTHORIZED_CODE, extension: this.#extension },
    });
  }

  /** Authentication and scopes: depends on the request's token only. */
  checkContext(requirement: AccessRequirement, context: unknown): true | GraphQLError {
    const auth = (context as { auth?: ExtensionAuth } | null)?.auth;
    if (!auth) return this.denied('the request carries no verified identity');
    if (requirement.authenticated && auth.anonymous) return this.denied('it requires an authenticated user');
    for (const alternatives of requirement.scopes) {
      if (!alternatives.some((all) => all.every((scope) => auth.scopes.has(scope)))) {
        return this.denied(`it requires the scope${alternatives.flat().length > 1 ? 's' : ''} ${describe(alternatives)}`);
      }
    }
    return true;
  }

  /** The @policy clauses, each name judged at most once per field. */
  async checkPolicies(
    requirement: AccessRequirement,
    parent: unknown,
    args: unknown,
    context: unknown,
    info: GraphQLResolveInfo,
  ): Promise<true | GraphQLError> {
    const verdicts = new Map<string, Promise<boolean>>();
    const judge = (name: string): Promise<boolean> => {
      let verdict = verdicts.get(name);
      if (!verdict) verdicts.set(name, (verdict = this.#invoke(name, parent, args, context, info)));
      return verdict;
    };
    for (const alternatives of requirement.policies) {
      let satisfied = false;
      for (const all of alternatives) {
        let allowed = true;
        for (const name of all) {
          if (!(await judge(name))) {
            allowed = false;
            break;
          }
        }
        if (allowed) {
          satisfied = true;
          break;
        }
      }
      if (!satisfied) return this.denied(`policy ${describe(alternatives)} refused access`);
    }
    return true;
  }

  async #invoke(name: string, parent: unknown, args: unknown, context: unknown, info: GraphQLResolveInfo): Promise<boolean> {
    const policy = Object.hasOwn(this.#policies, name) ? this.#policies[name] : undefined;
    if (!policy) return false;
    try {
      return (await policy(parent, args, context as ExtensionContext, info)) === true;
    } catch (error) {
      // Fail closed; the author sees why in the extension's log, the client only the refusal.
      this.#logger.warn(`policy "${name}" threw at ${info.parentType.name}.${info.fieldName}: ${(error as Error)?.message ?? String(error)}`);
      return false;
    }
  }
}

type ReferenceResolver = (reference: unknown, context: unknown, info: GraphQLResolveInfo) => unknown;

/**
 * `_entities` returns any entity type, so Query-level rules cannot guard it; instead each
 * entity type with a type-level @authenticated / @requiresScopes checks them before its
 * `__resolveReference` runs (nothing is loaded for a refused caller). The refusal is per
 * representation: that entry is null with an UNAUTHORIZED_FIELD_OR_TYPE error. Field-level
 * rules and type-level @policy rules are applied on the entity's fields as usual.
 */
export function guardEntityReferences(resolvers: ExtensionResolvers, directives: SdlDirectives, access: AccessControl): ExtensionResolvers {
  const guarded: Record<string, object | undefined> = { ...resolvers };
  for (const typeName of directives.entityTypes) {
    const requirement = typeRequirement(directives, typeName);
    if (!requirement || contextKey(requirement) === undefined) continue;
    const typeResolvers = resolvers[typeName] as Record<string, unknown> | undefined;
    const inner = typeResolvers?.['__resolveReference'] as ReferenceResolver | undefined;
    guarded[typeName] = {
      ...typeResolvers,
      // async: a refusal becomes this representation's error, not the whole _entities list's.
      __resolveReference: async (reference: unknown, context: unknown, info: GraphQLResolveInfo) => {
        const verdict = access.checkContext(requirement, context);
        if (verdict !== true) throw verdict;
        return inner ? inner(reference, context, info) : reference;
      },
    };
  }
  return guarded;
}
