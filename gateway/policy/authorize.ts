// Edge authorization of one operation: which selections the principal may not see.
// Filter mode (the default, as in Apollo Router) removes them from the document before
// planning, so no subgraph is ever asked for them; reject mode refuses the operation.
import {
  GraphQLError,
  Kind,
  getNamedType,
  isAbstractType,
  isCompositeType,
  isInterfaceType,
  isObjectType,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type InlineFragmentNode,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import type { Principal } from '../auth/index.js';
import type { PolicyFunction } from '../config/index.js';
import { GraftErrorCode } from '../errors/index.js';
import {
  forEachAtPath,
  fragmentsOf,
  isIncluded,
  listMarkedPathOf,
  nullAtPath,
  operationVariables,
  selectOperation,
  typedPathOf,
  type PathSegment,
  type SelectionTrail,
  type VariableValues,
} from '../graphql/index.js';
import type { AuthorizationMetadata, Requirement } from './metadata.js';

export type { AuthorizationMode } from '../config/index.js';
export type { PolicyFunction };

export type { PathSegment };

/** Per-tenant enablement: which extension resolves a field, and whether it answers for a tenant. */
export interface TenantEnablement {
  ownersOf(typeName: string, fieldName: string): readonly string[];
  isEnabledFor(extension: string, tenant: string | undefined): boolean;
  readonly hasTenantRestrictions: boolean;
}

export interface DeniedSelection {
  /** UNAUTHORIZED_FIELD_OR_TYPE, or EXTENSION_DISABLED for a field of an extension the tenant does not have. */
  code: GraftErrorCode.UNAUTHORIZED_FIELD_OR_TYPE | GraftErrorCode.EXTENSION_DISABLED;
  /** With EXTENSION_DISABLED: the extension. */
  extension?: string;
  /** Where in the response: response keys, "@" standing for every item of a list. */
  path: Array<string>;
  typedPath: PathSegment[];
  coordinate: string;
  /** Scope alternatives that would grant access, each minus what the principal has. */
  missingScopes: string[][];
  unmetPolicies: string[][];
  needsAuthentication: boolean;
}

export interface AuthorizationOutcome {
  /** The document to execute: the original one when nothing is denied. */
  document: DocumentNode;
  denied: DeniedSelection[];
  /**
   * Fields whose every sub-selection was denied keep a `__typename` selection so the object
   * itself still answers (`{ member: { salary: null } }`); it is removed from the result.
   */
  placeholders: PathSegment[][];
  /** The operation's root selections were all removed: nothing to execute. */
  empty: boolean;
}

interface Verdict {
  allowed: boolean;
  missingScopes: string[][];
  unmetPolicies: string[][];
  needsAuthentication: boolean;
}

const ALLOWED: Verdict = { allowed: true, missingScopes: [], unmetPolicies: [], needsAuthentication: false };

export class OperationAuthorizer {
  readonly #schema: GraphQLSchema;
  readonly #metadata: AuthorizationMetadata;
  readonly #policies: Readonly<Record<string, PolicyFunction>>;
  /** Requirements per "Parent.field" once the field, its parent and its return type are combined. */
  readonly #combined = new Map<string, readonly Requirement[]>();

  readonly #enablement: TenantEnablement | undefined;

  constructor(
    schema: GraphQLSchema,
    metadata: AuthorizationMetadata,
    policies: Readonly<Record<string, PolicyFunction>>,
    enablement?: TenantEnablement,
  ) {
    this.#schema = schema;
    this.#metadata = metadata;
    this.#policies = policies;
    this.#enablement = enablement;
  }

  /** True when nothing can be denied: no authorization directive, no tenant restriction. */
  get isOpen(): boolean {
    return this.#metadata.fields.size === 0 && this.#metadata.types.size === 0 && !this.#enablement?.hasTenantRestrictions;
  }

  /** The extension that would resolve this field but is not enabled for the principal's tenant. */
  disabledExtension(parent: GraphQLCompositeType, field: string, principal: Principal): string | undefined {
    const enablement = this.#enablement;
    if (!enablement?.hasTenantRestrictions) return undefined;
    const owners = enablement.ownersOf(parent.name, field);
    if (owners.length === 0 || owners.some((o) => enablement.isEnabledFor(o, principal.tenant))) return undefined;
    return owners[0];
  }

  /**
   * `variables`: the request's values; a selection that @skip/@include leaves out is not
   * asked for, so it is neither denied nor answered (it stays in the document, where
   * execution leaves it out the same way).
   */
  authorize(
    document: DocumentNode,
    operationName: string | null | undefined,
    principal: Principal,
    variables?: VariableValues | null,
  ): AuthorizationOutcome {
    if (this.isOpen) return { document, denied: [], placeholders: [], empty: false };
    const operation = selectOperation(document, operationName);
    // No operation to run: execution answers graphql-js's error.
    if (operation instanceof GraphQLError) return { document, denied: [], placeholders: [], empty: false };
    const root = this.#schema.getRootType(operation.operation);
    if (!root) return { document, denied: [], placeholders: [], empty: false };
    const fragments = fragmentsOf(document);

    const denied: DeniedSelection[] = [];
    const placeholders: PathSegment[][] = [];
    const walk = new Walk(this, fragments, operationVariables(operation, variables), principal, denied, placeholders);
    const selectionSet = walk.selectionSet(operation.selectionSet, root, undefined);
    if (denied.length === 0) return { document, denied, placeholders, empty: false };
    // Fragments were inlined while filtering: the new document has the operation only.
    const filtered: DocumentNode = {
      kind: Kind.DOCUMENT,
      definitions: selectionSet ? [{ ...operation, selectionSet }] : [],
    };
    return { document: filtered, denied, placeholders, empty: selectionSet === undefined };
  }

  schemaType(name: string) {
    return this.#schema.getType(name);
  }

  requirementsFor(parent: GraphQLCompositeType, field: GraphQLField<unknown, unknown>): readonly Requirement[] {
    const key = `${parent.name}.${field.name}`;
    let combined = this.#combined.get(key);
    if (!combined) {
      const returned = getNamedType(field.type);
      combined = [
        ...(this.#metadata.fields.get(key) ?? []),
        ...(this.#metadata.types.get(parent.name) ?? []),
        ...(this.#metadata.types.get(returned.name) ?? []),
        // A field of an interface also needs what its implementations' fields need.
        ...(isInterfaceType(parent)
          ? this.#schema.getPossibleTypes(parent).flatMap((t) => this.#metadata.fields.get(`${t.name}.${field.name}`) ?? [])
          : []),
      ];
      this.#combined.set(key, combined);
    }
    return combined;
  }

  evaluate(requirements: readonly Requirement[], principal: Principal): Verdict {
    if (requirements.length === 0) return ALLOWED;
    let allowed = true;
    const missingScopes: string[][] = [];
    const unmetPolicies: string[][] = [];
    let needsAuthentication = false;
    for (const requirement of requirements) {
      if (requirement.kind === 'authenticated') {
        if (principal.anonymous) {
          allowed = false;
          needsAuthentication = true;
        }
      } else if (requirement.kind === 'scopes') {
        const gaps = requirement.anyOf.map((all) => all.filter((scope) => !principal.scopes.has(scope)));
        if (gaps.length > 0 && !gaps.some((gap) => gap.length === 0)) {
          allowed = false;
          missingScopes.push(...gaps);
        }
      } else {
        const pass = requirement.anyOf.some((all) => all.every((name) => this.#policy(name, principal)));
        if (!pass) {
          allowed = false;
          unmetPolicies.push(...requirement.anyOf);
        }
      }
    }
    return { allowed, missingScopes, unmetPolicies, needsAuthentication };
  }

  #policy(name: string, principal: Principal): boolean {
    const policy = this.#policies[name];
    if (!policy) return false; // an unknown policy never grants access
    try {
      return policy(principal) === true;
    } catch {
      return false;
    }
  }
}

class Walk {
  readonly #authorizer: OperationAuthorizer;
  readonly #fragments: Readonly<Record<string, FragmentDefinitionNode>>;
  readonly #variables: VariableValues;
  readonly #principal: Principal;
  readonly #denied: DeniedSelection[];
  readonly #placeholders: PathSegment[][];

  constructor(
    authorizer: OperationAuthorizer,
    fragments: Readonly<Record<string, FragmentDefinitionNode>>,
    variables: VariableValues,
    principal: Principal,
    denied: DeniedSelection[],
    placeholders: PathSegment[][],
  ) {
    this.#authorizer = authorizer;
    this.#fragments = fragments;
    this.#variables = variables;
    this.#principal = principal;
    this.#denied = denied;
    this.#placeholders = placeholders;
  }

  /**
   * Returns the filtered selection set (the same node when nothing changed, so an allowed
   * operation allocates nothing), or undefined when nothing in it remains.
   */
  selectionSet(selectionSet: SelectionSetNode, parent: GraphQLCompositeType, trail: Trail | undefined): SelectionSetNode | undefined {
    let kept: SelectionNode[] | undefined;
    const { selections } = selectionSet;
    for (let i = 0; i < selections.length; i += 1) {
      const selection = selections[i]!;
      const result = this.#selection(selection, parent, trail);
      if (result !== selection && kept === undefined) kept = selections.slice(0, i);
      if (kept !== undefined && result) kept.push(result);
    }
    if (kept === undefined) return selectionSet;
    if (kept.length === 0) return undefined;
    return { ...selectionSet, selections: kept };
  }

  #selection(selection: SelectionNode, parent: GraphQLCompositeType, trail: Trail | undefined): SelectionNode | undefined {
    // Not selected: nothing to authorize (the client did not ask for it).
    if (!isIncluded(selection, this.#variables)) return selection;
    switch (selection.kind) {
      case Kind.FIELD:
        return this.#field(selection, parent, trail);
      case Kind.INLINE_FRAGMENT: {
        const type = selection.typeCondition ? this.#compositeType(selection.typeCondition.name.value) ?? parent : parent;
        const inner = this.selectionSet(selection.selectionSet, type, trail);
        if (inner === selection.selectionSet) return selection;
        return inner ? { ...selection, selectionSet: inner } : undefined;
      }
      case Kind.FRAGMENT_SPREAD: {
        // Inlined only when something inside is denied: each use then gets its own paths.
        const fragment = this.#fragments[selection.name.value];
        if (!fragment) return undefined;
        const type = this.#compositeType(fragment.typeCondition.name.value) ?? parent;
        const inner = this.selectionSet(fragment.selectionSet, type, trail);
        if (inner === fragment.selectionSet) return selection;
        if (!inner) return undefined;
        const inline: InlineFragmentNode = {
          kind: Kind.INLINE_FRAGMENT,
          typeCondition: fragment.typeCondition,
          directives: selection.directives ?? [],
          selectionSet: inner,
        };
        return inline;
      }
    }
  }

  #compositeType(name: string): GraphQLCompositeType | undefined {
    const type = this.#authorizer.schemaType(name);
    return type && isCompositeType(type) ? type : undefined;
  }

  #field(node: FieldNode, parent: GraphQLCompositeType, trail: Trail | undefined): FieldNode | undefined {
    const name = node.name.value;
    // __typename and introspection are always allowed; a union has no fields of its own.
    if (name.startsWith('__') || (isAbstractType(parent) && !isInterfaceType(parent))) return node;
    const definition = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[name] : undefined;
    if (!definition) return node;
    const here: Trail = { key: node.alias?.value ?? name, type: definition.type, parent: trail };
    const disabled = this.#authorizer.disabledExtension(parent, name, this.#principal);
    if (disabled !== undefined) {
      this.#denied.push({
        code: GraftErrorCode.EXTENSION_DISABLED,
        extension: disabled,
        path: listMarkedPathOf(here),
        typedPath: typedPathOf(here),
        coordinate: `${parent.name}.${name}`,
        missingScopes: [],
        unmetPolicies: [],
        needsAuthentication: false,
      });
      return undefined;
    }
    const verdict = this.#authorizer.evaluate(this.#authorizer.requirementsFor(parent, definition), this.#principal);
    if (!verdict.allowed) {
      this.#denied.push({
        code: GraftErrorCode.UNAUTHORIZED_FIELD_OR_TYPE,
        path: listMarkedPathOf(here),
        typedPath: typedPathOf(here),
        coordinate: `${parent.name}.${name}`,
        missingScopes: verdict.missingScopes,
        unmetPolicies: verdict.unmetPolicies,
        needsAuthentication: verdict.needsAuthentication,
      });
      return undefined;
    }
    if (!node.selectionSet) return node;
    const returned = getNamedType(definition.type);
    if (!isCompositeType(returned)) return node;
    const inner = this.selectionSet(node.selectionSet, returned, here);
    if (inner === node.selectionSet) return node;
    if (!inner) {
      // Every sub-selection was denied: keep the object with a placeholder selection.
      this.#placeholders.push(typedPathOf(here));
      return { ...node, selectionSet: { kind: Kind.SELECTION_SET, selections: [TYPENAME_FIELD] } };
    }
    return { ...node, selectionSet: inner };
  }
}

type Trail = SelectionTrail;

const TYPENAME_FIELD: FieldNode = { kind: Kind.FIELD, name: { kind: Kind.NAME, value: '__typename' } };

/** Removes the placeholder `__typename` selections Graft added (see AuthorizationOutcome). */
export function removePlaceholders(data: Record<string, unknown> | null | undefined, placeholders: readonly PathSegment[][]): void {
  if (!data) return;
  for (const path of placeholders) {
    forEachAtPath(data, path, (_trail, value, last) => {
      if (!last || value === null || typeof value !== 'object') return;
      for (const item of Array.isArray(value) ? (value.flat(Infinity) as unknown[]) : [value]) {
        if (item !== null && typeof item === 'object') delete (item as Record<string, unknown>)['__typename'];
      }
    });
  }
}

/** One GraphQLError per denied selection, as clients see it. */
export function deniedErrors(denied: readonly DeniedSelection[], principal?: Principal): GraphQLError[] {
  return denied.map((d) =>
    d.code === GraftErrorCode.EXTENSION_DISABLED
      ? new GraphQLError(
          `Extension "${d.extension}" is not enabled for ${principal?.tenant ? `tenant "${principal.tenant}"` : 'requests without a tenant'}; ${d.coordinate} is unavailable.`,
          { path: d.path, extensions: { code: GraftErrorCode.EXTENSION_DISABLED, extension: d.extension } },
        )
      : new GraphQLError(
        d.needsAuthentication
          ? `Unauthorized field or type: ${d.coordinate} needs an authenticated user; send a token.`
          : `Unauthorized field or type: ${d.coordinate}${d.missingScopes.length > 0 ? ` needs scopes ${d.missingScopes.map((s) => s.join(' & ')).join(' or ')}` : ''}${d.unmetPolicies.length > 0 ? ` needs policy ${d.unmetPolicies.map((p) => p.join(' & ')).join(' or ')}` : ''}.`,
        {
          path: d.path,
          extensions: {
            code: GraftErrorCode.UNAUTHORIZED_FIELD_OR_TYPE,
            ...(d.missingScopes.length > 0 ? { missingScopes: d.missingScopes } : {}),
            ...(d.unmetPolicies.length > 0 ? { unmetPolicies: d.unmetPolicies } : {}),
          },
        },
      ),
  );
}

/** Reject mode: the whole operation is refused, listing every denied path. */
export function forbiddenError(denied: readonly DeniedSelection[]): GraphQLError {
  const paths = denied.map((d) => d.path.join('.'));
  return new GraphQLError(`The operation was refused: the token may not see ${paths.join(', ')}. Remove these fields or get a token with the missing scopes.`, {
    extensions: {
      code: GraftErrorCode.FORBIDDEN,
      deniedPaths: denied.map((d) => d.path),
      missingScopes: [...new Set(denied.flatMap((d) => d.missingScopes.map((s) => s.join(' '))))],
    },
  });
}

type Data = Record<string, unknown>;

/**
 * Puts null at each denied path of an execution result. A denied non-null field nulls its
 * parent, and so on up to the nearest nullable position, as GraphQL's null propagation would.
 */
export function insertDeniedNulls(data: Data | null | undefined, denied: readonly DeniedSelection[]): Data | null {
  if (!data) return data ?? null;
  for (const selection of denied) {
    if (!nullAtPath(data, selection.typedPath)) return null;
  }
  return data;
}
