// What an extension's own SDL asks for: the scopes in its @requiresScopes and the names
// in its @policy. Checked at publish against its grants and the gateway's policies.
import { Kind, parse, visit, type ConstDirectiveNode, type ConstValueNode } from 'graphql';
import { canonicalDirectiveNames } from '../graphql/index.js';

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
  // The names composition gives them: imported (maybe renamed), else @federation__x (or
  // the link's own namespace), else, without a federation @link, the plain names.
  const canonical = canonicalDirectiveNames(document);
  const usage: SubgraphAuthorizationUsage = { scopes: new Set(), policies: new Set() };
  visit(document, {
    Directive(node) {
      const directive = node as ConstDirectiveNode;
      if (canonical.get(directive.name.value) === 'requiresScopes') {
        strings(directive.arguments?.find((a) => a.name.value === 'scopes')?.value).forEach((s) => usage.scopes.add(s));
      }
      if (canonical.get(directive.name.value) === 'policy') {
        strings(directive.arguments?.find((a) => a.name.value === 'policies')?.value).forEach((p) => usage.policies.add(p));
      }
    },
  });
  return usage;
}
