// What an extension's own SDL asks for: the scopes in its @requiresScopes and the names
// in its @policy. Checked at publish against its grants and the gateway's policies.
import { Kind, parse, visit, type ConstDirectiveNode, type ConstValueNode, type DocumentNode } from 'graphql';

function importedNames(document: DocumentNode, directive: string): Set<string> {
  // Federation 2 subgraphs import directives with @link(import: ["@x", { name: "@x", as: "@y" }]);
  // without an import they are reachable as @federation__x.
  const names = new Set<string>([`federation__${directive}`]);
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.SCHEMA_DEFINITION && definition.kind !== Kind.SCHEMA_EXTENSION) continue;
    for (const link of definition.directives ?? []) {
      if (link.name.value !== 'link') continue;
      const imports = link.arguments?.find((a) => a.name.value === 'import')?.value;
      if (imports?.kind !== Kind.LIST) continue;
      for (const item of imports.values) {
        if (item.kind === Kind.STRING && item.value === `@${directive}`) names.add(directive);
        if (item.kind === Kind.OBJECT) {
          const name = item.fields.find((f) => f.name.value === 'name')?.value;
          const as = item.fields.find((f) => f.name.value === 'as')?.value;
          if (name?.kind === Kind.STRING && name.value === `@${directive}`) {
            names.add(as?.kind === Kind.STRING ? as.value.replace(/^@/, '') : directive);
          }
        }
      }
    }
  }
  return names;
}

function strings(value: ConstValueNode | undefined): string[] {
  if (!value) return [];
  if (value.kind === Kind.STRING) return [value.value];
  if (value.kind === Kind.LIST) return value.values.flatMap(strings);
  return [];
}

export interface SubgraphAuthorizationUsage {
  scopes: Set<string>;
  policies: Set<string>;
}

export function authorizationUsageOf(sdl: string): SubgraphAuthorizationUsage {
  const document = parse(sdl, { noLocation: true });
  const scopeDirectives = importedNames(document, 'requiresScopes');
  const policyDirectives = importedNames(document, 'policy');
  const usage: SubgraphAuthorizationUsage = { scopes: new Set(), policies: new Set() };
  visit(document, {
    Directive(node) {
      const directive = node as ConstDirectiveNode;
      if (scopeDirectives.has(directive.name.value)) {
        strings(directive.arguments?.find((a) => a.name.value === 'scopes')?.value).forEach((s) => usage.scopes.add(s));
      }
      if (policyDirectives.has(directive.name.value)) {
        strings(directive.arguments?.find((a) => a.name.value === 'policies')?.value).forEach((p) => usage.policies.add(p));
      }
    },
  });
  return usage;
}
