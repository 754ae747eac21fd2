// The schema lint policy (issue 16, item 3): style and safety rules an operator sets in
// the gateway's config, applied to every extension's subgraph SDL by the publish pipeline
// (so `graft check` and publish judge alike). Rule names are graphql-eslint's where it
// has the rule (naming-convention, require-description); the others are Graft's own.
// Federation directives are read through gateway/graphql, so `@requiresScopes` imported
// under another name, or as `@federation__requiresScopes`, counts as itself.
import {
  Kind,
  parse,
  type ConstDirectiveNode,
  type DefinitionNode,
  type DocumentNode,
  type FieldDefinitionNode,
  type InputValueDefinitionNode,
  type TypeNode,
} from 'graphql';
import { LINT_RULES, type LintConfig, type LintRuleName, type LintRuleOptions } from '../config/index.js';
import { canonicalDirectiveNames, type FederationDirective } from '../graphql/index.js';

export { LINT_RULES, validateLintConfig, type LintConfig, type LintRuleName, type LintRuleOptions, type LintRuleSetting, type LintSeverity } from '../config/index.js';

/** A rule that found something, at a schema coordinate. */
export interface LintFinding {
  rule: LintRuleName;
  severity: 'warn' | 'error';
  /** Type, Type.field, Type.field(arg:) or Enum.VALUE. */
  path: string;
  message: string;
}

export const DEFAULT_SLICING_ARGUMENTS: readonly string[] = ['first', 'last', 'limit'];
export const DEFAULT_SENSITIVE_PATTERNS: readonly string[] = ['email', 'phone', '*Token'];

function settingOf(config: LintConfig, rule: LintRuleName): { severity: 'warn' | 'error'; options: LintRuleOptions } | undefined {
  const setting = config.rules[rule];
  if (setting === undefined) return undefined;
  const [severity, options] = Array.isArray(setting) ? setting : [setting, {}];
  return severity === 'off' ? undefined : { severity, options };
}

/** Whether any rule is on (else the pipeline skips the step). */
export function lintEnabled(config: LintConfig): boolean {
  return LINT_RULES.some((rule) => settingOf(config, rule) !== undefined);
}

/** `*Token` → /^.*Token$/i. */
function patternMatcher(patterns: readonly string[]): (name: string) => string | undefined {
  const compiled = patterns.map((p) => ({ p, re: new RegExp(`^${p.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i') }));
  return (name) => compiled.find(({ re }) => re.test(name))?.p;
}

const PASCAL_CASE = /^[A-Z][A-Za-z0-9]*$/;
const CAMEL_CASE = /^[a-z][A-Za-z0-9]*$/;
const SCREAMING_SNAKE_CASE = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/;
const BUILT_IN_SCALARS = new Set(['String', 'Int', 'Float', 'Boolean', 'ID']);
const ROOT_TYPES = new Set(['Query', 'Mutation', 'Subscription']);

/** Names the federation and link specs define in a subgraph (never the author's to name or describe). */
const isSpecName = (name: string): boolean => name.startsWith('_') || name.includes('__') || name === 'FieldSet' || name === 'Import' || name === 'Purpose';

const namedTypeOf = (type: TypeNode): string => (type.kind === Kind.NAMED_TYPE ? type.name.value : namedTypeOf(type.type));
const isListOf = (type: TypeNode): boolean => (type.kind === Kind.NON_NULL_TYPE ? isListOf(type.type) : type.kind === Kind.LIST_TYPE);

type TypeDefinition = Extract<DefinitionNode, { name: { value: string }; kind: `${string}Type${'Definition' | 'Extension'}` }>;

function isTypeNode(node: DefinitionNode): node is TypeDefinition {
  return (
    node.kind === Kind.OBJECT_TYPE_DEFINITION ||
    node.kind === Kind.OBJECT_TYPE_EXTENSION ||
    node.kind === Kind.INTERFACE_TYPE_DEFINITION ||
    node.kind === Kind.INTERFACE_TYPE_EXTENSION ||
    node.kind === Kind.INPUT_OBJECT_TYPE_DEFINITION ||
    node.kind === Kind.INPUT_OBJECT_TYPE_EXTENSION ||
    node.kind === Kind.ENUM_TYPE_DEFINITION ||
    node.kind === Kind.ENUM_TYPE_EXTENSION ||
    node.kind === Kind.UNION_TYPE_DEFINITION ||
    node.kind === Kind.UNION_TYPE_EXTENSION ||
    node.kind === Kind.SCALAR_TYPE_DEFINITION ||
    node.kind === Kind.SCALAR_TYPE_EXTENSION
  );
}

const isExtension = (node: TypeDefinition): boolean => node.kind.endsWith('Extension');

/** Runs the policy over one subgraph SDL (which must parse; the manifest step checked it). */
export function lintSubgraph(sdl: string, config: LintConfig): LintFinding[] {
  const document: DocumentNode = parse(sdl, { noLocation: true });
  const canonical = canonicalDirectiveNames(document);
  const has = (directives: readonly ConstDirectiveNode[] | undefined, directive: FederationDirective): boolean =>
    (directives ?? []).some((d) => canonical.get(d.name.value) === directive);
  const findings: LintFinding[] = [];
  const report = (rule: LintRuleName, severity: 'warn' | 'error', path: string, message: string) => findings.push({ rule, severity, path, message: `${message} [${rule}]` });

  const types = document.definitions.filter(isTypeNode).filter((t) => !isSpecName(t.name.value));
  // Scalars and enums of this SDL: a list of them costs nothing per item, so it needs no size.
  const leafTypes = new Set([...BUILT_IN_SCALARS, ...types.filter((t) => t.kind.startsWith('Scalar') || t.kind.startsWith('Enum')).map((t) => t.name.value)]);

  const naming = settingOf(config, 'naming-convention');
  const description = settingOf(config, 'require-description');
  const listSize = settingOf(config, 'require-list-size');
  const sensitive = settingOf(config, 'require-scopes-on-sensitive-fields');
  const forbidden = settingOf(config, 'forbidden-names');
  const slicingArguments = new Set(listSize?.options.slicingArguments ?? DEFAULT_SLICING_ARGUMENTS);
  const sensitiveMatch = patternMatcher(sensitive?.options.patterns ?? DEFAULT_SENSITIVE_PATTERNS);
  const forbiddenMatch = patternMatcher(forbidden?.options.names ?? []);

  const checkName = (kind: string, path: string, name: string, style: RegExp, styleName: string) => {
    if (isSpecName(name)) return;
    if (naming && !style.test(name)) report('naming-convention', naming.severity, path, `${kind} ${path} is not ${styleName}.`);
    const pattern = forbidden ? forbiddenMatch(name) : undefined;
    if (forbidden && pattern !== undefined) report('forbidden-names', forbidden.severity, path, `${kind} ${path} has a forbidden name (matches "${pattern}"): rename it.`);
  };

  for (const type of types) {
    const typeName = type.name.value;
    const typeHidden = has(type.directives, 'inaccessible');
    checkName('Type', typeName, typeName, PASCAL_CASE, 'PascalCase');
    if (description && !isExtension(type) && !typeHidden && !ROOT_TYPES.has(typeName) && !('description' in type && type.description?.value.trim())) {
      report('require-description', description.severity, typeName, `Type ${typeName} has no description: document it with a "..." string before its definition.`);
    }
    if ('values' in type) {
      for (const value of type.values ?? []) checkName('Enum value', `${typeName}.${value.name.value}`, value.name.value, SCREAMING_SNAKE_CASE, 'SCREAMING_SNAKE_CASE');
    }
    if (!('fields' in type)) continue;
    const typeScoped = has(type.directives, 'requiresScopes');
    for (const field of (type.fields ?? []) as ReadonlyArray<FieldDefinitionNode | InputValueDefinitionNode>) {
      if (isSpecName(field.name.value)) continue;
      const path = `${typeName}.${field.name.value}`;
      checkName('Field', path, field.name.value, CAMEL_CASE, 'camelCase');
      const args = 'arguments' in field ? (field.arguments ?? []) : [];
      for (const argument of args) checkName('Argument', `${path}(${argument.name.value}:)`, argument.name.value, CAMEL_CASE, 'camelCase');
      // Fields another subgraph resolves, or that clients never see, are not this API's to judge.
      if (has(field.directives, 'external') || has(field.directives, 'inaccessible') || typeHidden) continue;
      if (description && !field.description?.value.trim()) report('require-description', description.severity, path, `Field ${path} has no description: document it with a "..." string before it.`);
      if (field.kind !== Kind.FIELD_DEFINITION) continue;
      if (listSize && isListOf(field.type) && !leafTypes.has(namedTypeOf(field.type)) && !has(field.directives, 'listSize') && !args.some((a) => slicingArguments.has(a.name.value))) {
        report(
          'require-list-size',
          listSize.severity,
          path,
          `List field ${path} has neither @listSize nor a slicing argument (${[...slicingArguments].join(', ')}): its cost is a guess. Add @listSize(assumedSize: N) or an argument that bounds it.`,
        );
      }
      const pattern = sensitive ? sensitiveMatch(field.name.value) : undefined;
      if (sensitive && pattern !== undefined && !typeScoped && !has(field.directives, 'requiresScopes')) {
        report('require-scopes-on-sensitive-fields', sensitive.severity, path, `Field ${path} looks sensitive (matches "${pattern}") but has no @requiresScopes: require a scope to read it.`);
      }
    }
  }
  return findings;
}
