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
import { canonicalDirectiveNames, type FederationDirective } from '../graphql/index.js';

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
