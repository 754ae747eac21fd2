// The schema lint policy's door (policy.ts): the rules, the config they read, and the
// linter the publish pipeline runs on each extension's SDL.
export {
  DEFAULT_SENSITIVE_PATTERNS,
  DEFAULT_SLICING_ARGUMENTS,
  LINT_RULES,
  lintEnabled,
  lintSubgraph,
  validateLintConfig,
  type LintConfig,
  type LintFinding,
  type LintRuleName,
  type LintRuleOptions,
  type LintRuleSetting,
  type LintSeverity,
} from './policy.js';
