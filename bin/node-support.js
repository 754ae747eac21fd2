// The Node versions Graft supports, checked by bin/graft.js before anything else loads:
// on an older Node a dependency would otherwise fail somewhere inside with a stack trace.
// Plain JavaScript with no imports, so it runs on any Node that can start an ES module.
// package.json "engines" says the same (a test pins that they agree).

/** The maintained LTS lines: 20 from 20.18 (its last features Graft uses), 22, and 24 onwards. */
export const SUPPORTED_NODE = 'Node 20.18 or newer 20.x, 22.x, or 24 and newer';
export const NODE_ENGINES_RANGE = '^20.18.0 || ^22.0.0 || >=24.0.0';

/** undefined when `version` (e.g. "v22.11.0") is supported, else the one line to print. */
export function unsupportedNodeMessage(version) {
  const [major, minor] = String(version).replace(/^v/, '').split('.').map(Number);
  const supported = (major === 20 && minor >= 18) || major === 22 || major >= 24;
  if (supported) return undefined;
  return `graft: Node ${version} is not supported; use ${SUPPORTED_NODE} (package.json engines: ${NODE_ENGINES_RANGE}).`;
}
