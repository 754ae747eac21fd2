// Enforces an AccessPlan per resolver with graphql-shield 7 (through graphql-middleware).
// The only file that imports either package: swapping the engine means rewriting this file.
//
// Options, deliberately:
// - fallbackRule: allow. Only fields with a directive (or a type-level directive that
//   reaches them) get a rule, and every generated rule refuses unless its requirement
//   holds. Fields without directives, `_service` and `_entities` stay open; entities are
//   still guarded per type (authorization.ts, guardEntityReferences) and per field here.
// - fallbackError: a GraphQLError with code UNAUTHORIZED_FIELD_OR_TYPE (a plain Error
//   would surface as INTERNAL_SERVER_ERROR). Generated rules return their own, more
//   precise refusal; this one covers a rule that returned false.
// - allowExternalErrors: true, so a resolver's own error (BAD_USER_INPUT, a failed
//   lookup) reaches the client as it is instead of becoming "Not Authorised!".
// - debug: false, so a rule that throws refuses (fail closed) instead of leaking the throw.
// - cache: the context-only part (authentication, scopes) is 'contextual': judged once per
//   request per rule name. Rule names are derived from the normalized requirement, so the
//   same name always means the same check. Policies see the parent value, so their rules
//   are 'no_cache' (a contextual cache keyed on the name would reuse one record's verdict
//   for another record).
import { GraphQLError, type GraphQLSchema } from 'graphql';
import { applyMiddleware } from 'graphql-middleware';
import { allow, chain, rule, shield, type IRules } from 'graphql-shield';
import {
  UNAUTHORIZED_CODE,
  contextKey,
  policyKey,
  type AccessControl,
  type AccessPlan,
  type AccessRequirement,
} from './authorization.js';

type ShieldRule = ReturnType<typeof chain> | ReturnType<ReturnType<typeof rule>>;

export function enforceAccessPlan(schema: GraphQLSchema, plan: AccessPlan, access: AccessControl, extension: string): GraphQLSchema {
  if (plan.size === 0) return schema;
  // One rule instance per name: shield refuses two different rules with the same name.
  const rules = new Map<string, ShieldRule>();
  const named = (name: string, create: () => ShieldRule): ShieldRule => {
    let existing = rules.get(name);
    if (!existing) rules.set(name, (existing = create()));
    return existing;
  };

  const ruleFor = (requirement: AccessRequirement): ShieldRule => {
    const parts: ShieldRule[] = [];
    const contextPart = contextKey(requirement);
    if (contextPart !== undefined) {
      const name = `graft:context:${contextPart}`;
      parts.push(named(name, () => rule(name, { cache: 'contextual' })((_parent, _args, context) => access.checkContext(requirement, context))));
    }
    const policyPart = policyKey(requirement);
    if (policyPart !== undefined) {
      const name = `graft:policy:${policyPart}`;
      parts.push(
        named(name, () =>
          rule(name, { cache: 'no_cache' })((parent, args, context, info) => access.checkPolicies(requirement, parent, args, context, info)),
        ),
      );
    }
    if (parts.length === 1) return parts[0]!;
    // chain: in order, stopping at the first refusal (a policy never runs for a caller without the scopes).
    return named(`graft:all:${contextPart}:${policyPart}`, () => chain(...parts));
  };

  const ruleTree: Record<string, Record<string, ShieldRule>> = {};
  for (const [typeName, fields] of plan) {
    const typeRules: Record<string, ShieldRule> = {};
    for (const [fieldName, requirement] of fields) typeRules[fieldName] = ruleFor(requirement);
    ruleTree[typeName] = typeRules;
  }

  const permissions = shield(ruleTree as IRules, {
    fallbackRule: allow,
    fallbackError: () =>
      new GraphQLError('Unauthorized field or type.', { extensions: { code: UNAUTHORIZED_CODE, extension } }),
    allowExternalErrors: true,
    debug: false,
  });
  return applyMiddleware(schema, permissions);
}
