// Graft's rule table: how each kind of schema change affects the graph's clients.
//
// @graphql-inspector/core 8.0.0 finds the changes and proposes a criticality; for most
// change kinds it agrees with graphql-js's findBreakingChanges / findDangerousChanges and we
// keep it. The rules below are the kinds where it is wrong or blind to context (each was
// reproduced against 8.0.0 and is pinned in checks.test.ts):
//
//  1. An optional argument is "dangerous", an optional input field "safe", and either with a
//     default "dangerous": one evolution, three levels. Both are safe: an operation that
//     omits an optional value keeps working and means what it meant.
//  2. Removing the default of a non-null argument / input field is only "dangerous" (with the
//     message "changed from '1' to 'undefined'"), yet it makes the value required, so every
//     operation that omitted it fails validation: breaking.
//  3. Enum values are judged without looking at where the enum is used. A value added to an
//     enum that no output position returns is never received by a client: safe. A value
//     removed from an enum that no input position takes cannot be in any operation: not
//     breaking, but dangerous, because a resolver still returning it now fails to serialise.
//  4. Removing `repeatable` from a directive is "dangerous"; for an executable directive an
//     operation that repeats it stops validating: breaking.
//  5. Type-system-only directives (no executable location) cannot appear in an operation, so
//     removing one, one of its locations or arguments, or making an argument required
//     breaks no client: dangerous (schema tooling may notice), not breaking.
//  6. Every added or removed directive usage is "dangerous" whatever the directive, and a
//     changed directive argument is reported as "removed" (dangerous) plus "added": so a new
//     @deprecated reason or a second @key fails a dangerous gate. Graft judges usages per
//     directive (DIRECTIVE_RULES) and merges the pair into one DIRECTIVE_USAGE_ARGUMENT_CHANGED.
//  7. @key usages are paired by position, so removing the first of two keys reads as "the
//     first key's fields changed, the second removed". Graft compares the key sets itself
//     (KEY_ADDED / KEY_REMOVED / KEY_CHANGED, in diff.ts) and ignores inspector's @key usages.
import { ChangeType, CriticalityLevel, type SerializableChange } from '@graphql-inspector/core';
import {
  getNamedType,
  isInputObjectType,
  isInterfaceType,
  isNonNullType,
  isObjectType,
  DirectiveLocation,
  type GraphQLDirective,
  type GraphQLSchema,
} from 'graphql';
import type { Criticality } from './types.js';

/** An inspector change as its `type` discriminates it. */
export type InspectorChange = SerializableChange & {
  message: string;
  path?: string;
  criticality: { level: CriticalityLevel; reason?: string };
};

export interface Classification {
  criticality: Criticality;
  reason?: string;
  /** Replaces inspector's message when it is misleading. */
  message?: string;
}

export interface RuleContext {
  oldSchema: GraphQLSchema;
  newSchema: GraphQLSchema;
  /** The spec name of a directive as used in the old or new SDL (`@pk` imported as `@key` gives "key"). */
  directiveName(localName: string, side: 'old' | 'new'): string;
}

export function fromInspectorLevel(level: CriticalityLevel): Criticality {
  if (level === CriticalityLevel.Breaking) return 'breaking';
  if (level === CriticalityLevel.Dangerous) return 'dangerous';
  return 'safe';
}

const EXECUTABLE_LOCATIONS = new Set<string>([
  DirectiveLocation.QUERY,
  DirectiveLocation.MUTATION,
  DirectiveLocation.SUBSCRIPTION,
  DirectiveLocation.FIELD,
  DirectiveLocation.FRAGMENT_DEFINITION,
  DirectiveLocation.FRAGMENT_SPREAD,
  DirectiveLocation.INLINE_FRAGMENT,
  DirectiveLocation.VARIABLE_DEFINITION,
]);

function isExecutable(directive: GraphQLDirective | null | undefined): boolean {
  return directive?.locations.some((l) => EXECUTABLE_LOCATIONS.has(l)) ?? false;
}

const TYPE_SYSTEM_ONLY =
  'Operations can only use executable directives, so no client operation breaks; tools that read the schema may notice.';

interface EnumPositions {
  input: boolean;
  output: boolean;
}

const enumPositionCache = new WeakMap<GraphQLSchema, Map<string, EnumPositions>>();

/** Where an enum appears in a schema: as an argument / input field type, as a field type, or both. */
export function enumPositions(schema: GraphQLSchema, enumName: string): EnumPositions {
  let cache = enumPositionCache.get(schema);
  if (!cache) {
    cache = new Map();
    const mark = (name: string, position: keyof EnumPositions) => {
      const entry = cache!.get(name) ?? { input: false, output: false };
      entry[position] = true;
      cache!.set(name, entry);
    };
    for (const type of Object.values(schema.getTypeMap())) {
      if (isObjectType(type) || isInterfaceType(type)) {
        for (const field of Object.values(type.getFields())) {
          mark(getNamedType(field.type).name, 'output');
          for (const arg of field.args) mark(getNamedType(arg.type).name, 'input');
        }
      } else if (isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) mark(getNamedType(field.type).name, 'input');
      }
    }
    for (const directive of schema.getDirectives()) for (const arg of directive.args) mark(getNamedType(arg.type).name, 'input');
    enumPositionCache.set(schema, cache);
  }
  return cache.get(enumName) ?? { input: false, output: false };
}

function isRequiredTypeName(typeName: string, hasDefault: boolean): boolean {
  return typeName.endsWith('!') && !hasDefault;
}

function defaultRemovedFromRequired(what: string): Classification {
  return {
    criticality: 'breaking',
    message: `Default value of ${what} was removed: it is non-null, so it is now required.`,
    reason: 'A non-null value without a default is required: every operation that omitted it now fails validation.',
  };
}

type ChangeOf<T extends InspectorChange['type']> = Extract<InspectorChange, { type: T }>;
type Rule<T extends InspectorChange['type']> = (change: ChangeOf<T>, context: RuleContext) => Classification | undefined;
type RuleTable = { [T in InspectorChange['type']]?: Rule<T> };

/** Overrides of inspector's criticality; a rule returning undefined keeps inspector's level. */
const RULES: RuleTable = {
  // (1) Optional arguments and input fields are safe, with or without a default.
  [ChangeType.FieldArgumentAdded]: (change) => {
    const { addedArgumentType, hasDefaultValue, addedToNewField } = change.meta;
    if (addedToNewField) return { criticality: 'safe' };
    if (isRequiredTypeName(addedArgumentType, hasDefaultValue)) return undefined;
    return {
      criticality: 'safe',
      reason: 'An optional argument: operations that omit it keep working and mean what they meant.',
    };
  },
  [ChangeType.InputFieldAdded]: (change) => {
    const { isAddedInputFieldTypeNullable, addedFieldDefault, addedToNewType } = change.meta;
    if (addedToNewType) return { criticality: 'safe' };
    if (!isAddedInputFieldTypeNullable && addedFieldDefault === undefined) return undefined;
    return {
      criticality: 'safe',
      reason: 'An optional input field: operations that omit it keep working and mean what they meant.',
    };
  },

  // (2) A default removed from a non-null value makes it required.
  [ChangeType.FieldArgumentDefaultChanged]: (change, { newSchema }) => {
    const { typeName, fieldName, argumentName, newDefaultValue } = change.meta;
    if (newDefaultValue !== undefined) return undefined;
    const type = newSchema.getType(typeName);
    const arg = isObjectType(type) || isInterfaceType(type) ? type.getFields()[fieldName]?.args.find((a) => a.name === argumentName) : undefined;
    if (arg && isNonNullType(arg.type)) return defaultRemovedFromRequired(`argument '${argumentName}' on field '${typeName}.${fieldName}'`);
    return { criticality: 'dangerous', message: `Default value of argument '${argumentName}' on field '${typeName}.${fieldName}' was removed.` };
  },
  [ChangeType.InputFieldDefaultValueChanged]: (change, { newSchema }) => {
    const { inputName, inputFieldName, newDefaultValue } = change.meta;
    if (newDefaultValue !== undefined) return undefined;
    const type = newSchema.getType(inputName);
    const field = isInputObjectType(type) ? type.getFields()[inputFieldName] : undefined;
    if (field && isNonNullType(field.type)) return defaultRemovedFromRequired(`input field '${inputName}.${inputFieldName}'`);
    return { criticality: 'dangerous', message: `Default value of input field '${inputName}.${inputFieldName}' was removed.` };
  },
  [ChangeType.DirectiveArgumentDefaultValueChanged]: (change, { newSchema }) => {
    const { directiveName, directiveArgumentName, newDirectiveArgumentDefaultValue } = change.meta;
    if (newDirectiveArgumentDefaultValue !== undefined) return undefined;
    const directive = newSchema.getDirective(directiveName);
    const arg = directive?.args.find((a) => a.name === directiveArgumentName);
    if (arg && isNonNullType(arg.type) && isExecutable(directive)) {
      return defaultRemovedFromRequired(`argument '${directiveArgumentName}' of directive '@${directiveName}'`);
    }
    return { criticality: 'dangerous', message: `Default value of argument '${directiveArgumentName}' of directive '@${directiveName}' was removed.` };
  },

  // (3) Enum values, judged by where the enum is used.
  [ChangeType.EnumValueAdded]: (change, { newSchema }) => {
    if (change.meta.addedToNewType) return { criticality: 'safe' };
    if (enumPositions(newSchema, change.meta.enumName).output) return undefined;
    return {
      criticality: 'safe',
      reason: `No field returns enum '${change.meta.enumName}' (it is input only), so no client ever receives the new value.`,
    };
  },
  [ChangeType.EnumValueRemoved]: (change, { oldSchema }) => {
    if (enumPositions(oldSchema, change.meta.enumName).input) return undefined;
    return {
      criticality: 'dangerous',
      reason: `No argument or input field takes enum '${change.meta.enumName}' (it is output only), so no operation can contain the value; but a resolver that still returns it now fails to serialise it.`,
    };
  },

  // (4) and (5) Directive definitions: only executable directives can break operations.
  [ChangeType.DirectiveRepeatableRemoved]: (change, { oldSchema }) =>
    isExecutable(oldSchema.getDirective(change.meta.directiveName))
      ? { criticality: 'breaking', reason: 'An operation that repeats this executable directive stops validating.' }
      : { criticality: 'dangerous', reason: TYPE_SYSTEM_ONLY },
  [ChangeType.DirectiveRemoved]: (change, { oldSchema }) =>
    isExecutable(oldSchema.getDirective(change.meta.removedDirectiveName)) ? undefined : { criticality: 'dangerous', reason: TYPE_SYSTEM_ONLY },
  [ChangeType.DirectiveLocationRemoved]: (change) =>
    EXECUTABLE_LOCATIONS.has(change.meta.removedDirectiveLocation) ? undefined : { criticality: 'dangerous', reason: TYPE_SYSTEM_ONLY },
  [ChangeType.DirectiveArgumentAdded]: (change, { newSchema }) =>
    change.criticality.level === CriticalityLevel.Breaking && !isExecutable(newSchema.getDirective(change.meta.directiveName))
      ? { criticality: 'dangerous', reason: TYPE_SYSTEM_ONLY }
      : undefined,
  [ChangeType.DirectiveArgumentRemoved]: (change, { oldSchema }) =>
    isExecutable(oldSchema.getDirective(change.meta.directiveName)) ? undefined : { criticality: 'dangerous', reason: TYPE_SYSTEM_ONLY },
  [ChangeType.DirectiveArgumentTypeChanged]: (change, { oldSchema }) =>
    change.criticality.level === CriticalityLevel.Breaking && !isExecutable(oldSchema.getDirective(change.meta.directiveName))
      ? { criticality: 'dangerous', reason: TYPE_SYSTEM_ONLY }
      : undefined,
};

/** The criticality of one inspector change under Graft's rules. */
export function classifyChange(change: InspectorChange, context: RuleContext): Classification {
  const usage = directiveUsageOf(change);
  if (usage) {
    const directive = context.directiveName(usage.directive, usage.action === 'removed' ? 'old' : 'new');
    if (usage.action === 'added' && usage.onNewElement) return { criticality: 'safe' };
    return classifyDirectiveUsage(directive, usage.action) ?? { criticality: fromInspectorLevel(change.criticality.level), ...reasonOf(change) };
  }
  // TypeScript cannot correlate RULES[change.type] with change's own type; each rule is typed by its key above.
  const rule = RULES[change.type] as Rule<InspectorChange['type']> | undefined;
  const ruled = rule?.(change as never, context);
  return ruled ?? { criticality: fromInspectorLevel(change.criticality.level), ...reasonOf(change) };
}

function reasonOf(change: InspectorChange): { reason?: string } {
  const reason = change.criticality.reason;
  // inspector echoes the message as the reason on some kinds: say nothing rather than the same thing twice.
  if (!reason || reason === change.message) return {};
  // Some of its reasons run to a paragraph; the first two sentences carry the point into a PR comment.
  return { reason: reason.length > 200 ? reason.split(/(?<=\.)\s+/).slice(0, 2).join(' ') : reason };
}

export type UsageAction = 'added' | 'removed' | 'changed';

export interface DirectiveUsage {
  directive: string;
  action: UsageAction;
  /** The usage arrived with a new type or field (nothing existing changes meaning). */
  onNewElement: boolean;
}

/** The directive usage an inspector change is about (DIRECTIVE_USAGE_* kinds), if any. */
export function directiveUsageOf(change: InspectorChange): DirectiveUsage | undefined {
  if (!change.type.startsWith('DIRECTIVE_USAGE_')) return undefined;
  const meta: object = change.meta;
  if (change.type === ChangeType.DirectiveUsageArgumentAdded || change.type === ChangeType.DirectiveUsageArgumentRemoved) {
    // An argument added to, removed from or changed on a usage that stays: the usage changed.
    return { directive: change.meta.directiveName, action: 'changed', onNewElement: false };
  }
  if ('addedDirectiveName' in meta && typeof meta.addedDirectiveName === 'string') {
    const onNew = ('addedToNewType' in meta && meta.addedToNewType === true) || ('addedToNewField' in meta && meta.addedToNewField === true);
    return { directive: meta.addedDirectiveName, action: 'added', onNewElement: onNew };
  }
  if ('removedDirectiveName' in meta && typeof meta.removedDirectiveName === 'string') {
    return { directive: meta.removedDirectiveName, action: 'removed', onNewElement: false };
  }
  return undefined;
}

const ACCESS =
  'Graft enforces it at the edge and in the subgraph: clients whose token lacks the scope or policy are refused this field.';
const PLANNING = 'Query plans through this field change; composition checks the graph is still satisfiable.';

/**
 * Directive usages by spec name: what adding, removing or changing one means to clients.
 * A directive not listed keeps inspector's level (dangerous): an extension's own resolver
 * directives transform field values, so any change to their use is worth a look.
 */
const DIRECTIVE_RULES: Record<string, Partial<Record<UsageAction, Classification>>> = {
  deprecated: {
    added: { criticality: 'safe', reason: 'Deprecation is advice: the element still works.' },
    removed: { criticality: 'safe' },
    changed: { criticality: 'safe', reason: 'A new deprecation reason is documentation.' },
  },
  specifiedBy: { added: { criticality: 'safe' }, removed: { criticality: 'safe' }, changed: { criticality: 'safe', reason: 'Documentation of a scalar.' } },
  oneOf: {
    added: { criticality: 'breaking', reason: 'Operations that set several fields of this input, or none, stop validating.' },
    removed: { criticality: 'safe', reason: 'Every value valid as one-of stays valid.' },
  },
  shareable: {
    added: { criticality: 'safe' },
    removed: { criticality: 'dangerous', reason: 'If another subgraph resolves this field, composition fails (INVALID_FIELD_SHARING).' },
    changed: { criticality: 'safe' },
  },
  external: { added: { criticality: 'dangerous', reason: PLANNING }, removed: { criticality: 'dangerous', reason: PLANNING } },
  requires: { added: { criticality: 'dangerous', reason: PLANNING }, removed: { criticality: 'dangerous', reason: PLANNING }, changed: { criticality: 'dangerous', reason: PLANNING } },
  provides: { added: { criticality: 'dangerous', reason: PLANNING }, removed: { criticality: 'dangerous', reason: PLANNING }, changed: { criticality: 'dangerous', reason: PLANNING } },
  override: {
    added: { criticality: 'dangerous', reason: 'Resolution of the field moves to this subgraph: all its traffic follows.' },
    removed: { criticality: 'dangerous', reason: 'Resolution of the field moves back to the other subgraph.' },
    changed: { criticality: 'dangerous', reason: 'Resolution of the field moves between subgraphs.' },
  },
  inaccessible: {
    added: { criticality: 'dangerous', reason: 'The element leaves the API schema (the API changes show what that breaks).' },
    removed: { criticality: 'safe', reason: 'The element enters the API schema.' },
  },
  tag: { added: { criticality: 'safe' }, removed: { criticality: 'safe' }, changed: { criticality: 'safe', reason: 'Graft serves no contracts: tags are metadata.' } },
  link: {
    added: { criticality: 'safe' },
    removed: { criticality: 'safe' },
    changed: { criticality: 'safe', reason: 'Composition validates the linked spec versions.' },
  },
  authenticated: {
    added: { criticality: 'dangerous', reason: ACCESS },
    removed: { criticality: 'dangerous', reason: 'Widens access: anonymous clients can now read this. Review it.' },
  },
  requiresScopes: {
    added: { criticality: 'dangerous', reason: ACCESS },
    removed: { criticality: 'dangerous', reason: 'Widens access to this element. Review it.' },
    changed: { criticality: 'dangerous', reason: 'Changes who may read this element. Review it.' },
  },
  policy: {
    added: { criticality: 'dangerous', reason: ACCESS },
    removed: { criticality: 'dangerous', reason: 'Widens access to this element. Review it.' },
    changed: { criticality: 'dangerous', reason: 'Changes who may read this element. Review it.' },
  },
  cost: {
    added: { criticality: 'dangerous', reason: 'Static cost changes: operations near the cost budget may now be refused.' },
    removed: { criticality: 'dangerous', reason: 'Static cost changes.' },
    changed: { criticality: 'dangerous', reason: 'Static cost changes: operations near the cost budget may now be refused.' },
  },
  listSize: {
    added: { criticality: 'dangerous', reason: 'Static cost changes: operations near the cost budget may now be refused.' },
    removed: { criticality: 'dangerous', reason: 'Static cost changes.' },
    changed: { criticality: 'dangerous', reason: 'Static cost changes: operations near the cost budget may now be refused.' },
  },
};

/** Graft's level for adding, removing or changing a usage of `directive` (spec name); undefined: no rule. */
export function classifyDirectiveUsage(directive: string, action: UsageAction): Classification | undefined {
  return DIRECTIVE_RULES[directive]?.[action];
}
