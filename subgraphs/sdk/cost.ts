// Actual cost: what an operation really spends in this extension, counted as resolvers
// return, against the budget the gateway sends (header `graft-cost-budget`). The weights
// follow the static model the gateway estimates with: each returned object, interface or
// union value costs 1, scalars and enums 0, and `@cost(weight:)` on the field (else on the
// returned type) overrides that. A list costs its weight once per non-null item.
//
// Only fields with a non-zero weight are wrapped, and the wrapper does one comparison
// before and one addition after the resolver: scalar fields run untouched.
import {
  GraphQLError,
  defaultFieldResolver,
  getNamedType,
  isAbstractType,
  isCompositeType,
  isIntrospectionType,
  isObjectType,
  type GraphQLField,
  type GraphQLFieldResolver,
  type GraphQLSchema,
} from 'graphql';
import type { SdlDirectives } from './directives.js';

export const COST_BUDGET_HEADER = 'graft-cost-budget';

/** `context.cost`: read-only for resolvers. */
export interface ActualCost {
  /** The budget the gateway sent for this operation; undefined when it sent none. */
  readonly budget: number | undefined;
  /** Actual cost counted so far in this request. */
  readonly spent: number;
}

export class CostMeter implements ActualCost {
  spent = 0;
  constructor(
    readonly budget: number | undefined,
    readonly extension: string,
  ) {}

  exceeded(): boolean {
    return this.budget !== undefined && this.spent > this.budget;
  }

  error(): GraphQLError {
    return new GraphQLError(
      `This operation's actual cost in extension "${this.extension}" (${this.spent} so far) exceeds its budget of ${this.budget}: ` +
        'ask for fewer items (a smaller "first") or fewer nested lists, or split the operation.',
      { extensions: { code: 'COST_ACTUAL_TOO_EXPENSIVE', extension: this.extension, costBudget: this.budget, costSpent: this.spent } },
    );
  }
}

/** The header's value as a budget: undefined when absent, an error message when not a non-negative integer. */
export function parseCostBudget(value: string | string[] | undefined): { budget: number | undefined } | { error: string } {
  if (value === undefined) return { budget: undefined };
  const text = Array.isArray(value) ? value.join(',') : value;
  if (!/^\d{1,15}$/.test(text.trim())) {
    return { error: `The ${COST_BUDGET_HEADER} header must be a non-negative integer, got "${text.slice(0, 40)}".` };
  }
  return { budget: Number(text.trim()) };
}

function countValues(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (Array.isArray(value)) {
    let count = 0;
    for (const item of value) count += countValues(item);
    return count;
  }
  return 1;
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** Weight of one value a field returns; 0 means the field is not wrapped. */
function fieldWeight(schema: GraphQLSchema, typeName: string, field: GraphQLField<unknown, unknown>, directives: SdlDirectives): number {
  const fieldCost = directives.fields.get(typeName)?.get(field.name)?.cost;
  if (fieldCost !== undefined) return Math.max(0, fieldCost);
  const named = getNamedType(field.type);
  const typeCost = (name: string): number | undefined => {
    const cost = directives.types.get(name)?.cost;
    return cost === undefined ? undefined : Math.max(0, cost);
  };
  const ownCost = typeCost(named.name);
  if (ownCost !== undefined) return ownCost;
  if (isAbstractType(named)) {
    // The returned value's concrete type is not known up front: charge the most expensive.
    return Math.max(1, ...schema.getPossibleTypes(named).map((t) => typeCost(t.name) ?? 1));
  }
  return isCompositeType(named) ? 1 : 0;
}

/**
 * Wraps (in place) every field resolver with a non-zero weight. Once the spent cost passes
 * the budget, the field that crossed it and every weighted field after it fail with
 * COST_ACTUAL_TOO_EXPENSIVE (so no object beyond the budget is returned).
 */
export function installCostAccounting(schema: GraphQLSchema, directives: SdlDirectives): void {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || isIntrospectionType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      const weight = fieldWeight(schema, type.name, field, directives);
      if (weight === 0) continue;
      const inner: GraphQLFieldResolver<unknown, unknown> = field.resolve ?? defaultFieldResolver;
      const charge = (meter: CostMeter, value: unknown): unknown => {
        // Authorization and resolver errors come back as values (graphql-shield returns them).
        if (value instanceof Error) return value;
        meter.spent += weight * countValues(value);
        if (meter.exceeded()) throw meter.error();
        return value;
      };
      field.resolve = (parent, args, context, info) => {
        const meter = (context as { cost: CostMeter }).cost;
        if (meter.exceeded()) throw meter.error();
        const result = inner(parent, args, context, info);
        return isPromiseLike(result) ? Promise.resolve(result).then((value) => charge(meter, value)) : charge(meter, result);
      };
    }
  }
}
