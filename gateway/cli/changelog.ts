// `graft changelog <name>`: an extension's changelog from a running gateway
// (GET /admin/extensions/{name}/changelog), newest version first, as text, markdown or JSON.
// The JSON is the admin API's answer as it is; text and markdown render it here.
import { Command, Option } from 'commander';
import type { Changelog, ChangelogDeprecation, ChangelogEntry, Removal } from '../publish/index.js';
import { AdminClient } from './admin-client.js';
import { CliError, ExitCode } from './exit.js';

export const CHANGELOG_FORMATS = ['text', 'markdown', 'json'] as const;
export type ChangelogFormat = (typeof CHANGELOG_FORMATS)[number];

type Change = ChangelogEntry['changes']['breaking'][number];

const day = (iso: string | null): string => (iso ?? '').slice(0, 10);

function bumpText(entry: ChangelogEntry): string {
  if (entry.bump === null) return '';
  if (entry.bump === 'initial') return 'first version';
  return `${entry.bump} bump over ${entry.previousVersion ?? '?'}`;
}

function removalText(removal: Removal): string {
  if (removal.deprecatedSince === null) return `${removal.coordinate} (${removal.neverDeprecated ? 'never deprecated' : 'not deprecated in the previous version'})`;
  return `${removal.coordinate} (deprecated since ${day(removal.deprecatedSince)}, ${removal.deprecatedInVersion})`;
}

function overrodeText(entry: ChangelogEntry): string {
  const { removals, operations } = entry.forced!.overrode;
  const parts = [
    ...(removals.length > 0 ? [`the deprecation rule for ${removals.map(removalText).join(', ')}`] : []),
    ...(operations.length > 0 ? [`broken registered operations ${operations.join(', ')}`] : []),
  ];
  return parts.length > 0 ? parts.join('; ') : 'nothing (no rule refused it)';
}

function deprecationText(d: ChangelogDeprecation): string {
  return `${d.coordinate}${d.reason ? ` ("${d.reason}")` : ''}: deprecated since ${day(d.deprecatedSince)} (${d.deprecatedInVersion}), may be removed from ${day(d.earliestRemoval)}`;
}

const GROUPS = ['breaking', 'dangerous', 'safe'] as const;

/** One line naming what else came in the same release. */
function releaseText(release: NonNullable<ChangelogEntry['release']>): string {
  const parts = [release.members.map((m) => `${m.extension}@${m.version}`).join(', '), ...(release.retired.length > 0 ? [`retiring ${release.retired.join(', ')}`] : [])];
  return `Released together (release #${release.id}): ${parts.join('; ')}${release.reason ? ` — ${release.reason}` : ''}`;
}

// ---------------------------------------------------------------- text

export function formatChangelogText(changelog: Changelog): string {
  const lines = [`Changelog of ${changelog.extension} (deprecation period: ${changelog.deprecationDays} days), newest first`, ''];
  if (changelog.pendingRemovals.length > 0) {
    lines.push('Deprecated now:');
    for (const d of changelog.pendingRemovals) lines.push(`  ${deprecationText(d)}`);
    lines.push('');
  }
  if (changelog.entries.length === 0) lines.push('No version has been published yet.');
  for (const entry of changelog.entries) {
    const verdict = entry.verdict === null ? 'no report' : entry.verdict.toUpperCase();
    lines.push(`${entry.version}  ${day(entry.publishedAt)}  by ${entry.publishedBy}  ${verdict}${entry.bump ? ` (${bumpText(entry)})` : ''}`);
    if (entry.forced) lines.push(`  FORCED by ${entry.forced.by}: "${entry.forced.reason}"; overrode ${overrodeText(entry)}`);
    if (entry.release) lines.push(`  ${releaseText(entry.release)}`);
    for (const group of GROUPS) {
      const changes = entry.changes[group];
      if (changes.length === 0) continue;
      lines.push(`  ${group[0]!.toUpperCase()}${group.slice(1)}:`);
      for (const change of changes) lines.push(`    ${change.path || '(subgraph)'}  ${change.message}${change.level === 'api' ? '  [API]' : ''}`);
    }
    if (entry.affectedOperations.length > 0) lines.push(`  Broken registered operations: ${entry.affectedOperations.join(', ')}`);
    if (entry.removals.length > 0) lines.push(`  Removed: ${entry.removals.map(removalText).join(', ')}`);
    if (entry.deprecations.length > 0) {
      lines.push('  Deprecated:');
      for (const d of entry.deprecations) lines.push(`    ${deprecationText(d)}`);
    }
    for (const note of entry.notes) lines.push(`  Note: ${note}`);
    lines.push('');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

// ---------------------------------------------------------------- markdown

const code = (text: string): string => `\`${text.replaceAll('`', "'")}\``;
const cell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

export function formatChangelogMarkdown(changelog: Changelog): string {
  const lines = [`# Changelog of ${code(changelog.extension)}`, '', `Newest first. Deprecation period: ${changelog.deprecationDays} days.`, ''];
  if (changelog.pendingRemovals.length > 0) {
    lines.push('## Deprecated now', '', '| field or value | reason | deprecated since | earliest removal |', '|---|---|---|---|');
    for (const d of changelog.pendingRemovals) {
      lines.push(`| ${code(d.coordinate)} | ${cell(d.reason ?? '')} | ${day(d.deprecatedSince)} (${d.deprecatedInVersion}) | ${day(d.earliestRemoval)} |`);
    }
    lines.push('');
  }
  for (const entry of changelog.entries) {
    lines.push(`## ${entry.version} — ${day(entry.publishedAt)}`, '');
    lines.push(`Published by **${entry.publishedBy}** · verdict **${entry.verdict ?? 'not recorded'}**${entry.bump ? ` · ${bumpText(entry)}` : ''}`, '');
    if (entry.forced) lines.push(`> **Forced** by **${entry.forced.by}**: ${cell(entry.forced.reason)}`, `> Overrode ${overrodeText(entry)}.`, '');
    if (entry.release) lines.push(cell(releaseText(entry.release)), '');
    for (const group of GROUPS) {
      const changes: Change[] = entry.changes[group];
      if (changes.length === 0) continue;
      lines.push(`### ${group[0]!.toUpperCase()}${group.slice(1)}`, '');
      for (const change of changes) lines.push(`- ${change.path ? `${code(change.path)} ` : ''}${cell(change.message)}${change.level === 'api' ? ' *(API)*' : ''}`);
      lines.push('');
    }
    if (entry.affectedOperations.length > 0) lines.push(`**Broken registered operations:** ${entry.affectedOperations.map(code).join(', ')}`, '');
    if (entry.deprecations.length > 0) {
      lines.push('### Deprecated', '');
      for (const d of entry.deprecations) {
        lines.push(`- ${code(d.coordinate)}${d.reason ? ` (${cell(d.reason)})` : ''} — may be removed from ${day(d.earliestRemoval)}`);
      }
      lines.push('');
    }
    for (const note of entry.notes) lines.push(`*${cell(note)}*`, '');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

export function formatChangelog(changelog: Changelog, format: ChangelogFormat): string {
  if (format === 'json') return `${JSON.stringify(changelog, null, 2)}\n`;
  return format === 'markdown' ? formatChangelogMarkdown(changelog) : formatChangelogText(changelog);
}

export interface ChangelogCommandOptions {
  registry: string;
  token?: string;
  format: ChangelogFormat;
}

export async function runChangelogCommand(name: string, options: ChangelogCommandOptions): Promise<void> {
  if (!options.token) throw new CliError('Pass --token <jwt> (or set GRAFT_TOKEN) with graft:admin or graft:publish:<name>.', ExitCode.USAGE);
  const client = new AdminClient(options.registry, options.token);
  const changelog = await client.request<Changelog>('GET', `/extensions/${encodeURIComponent(name)}/changelog`);
  await new Promise<void>((resolve, reject) => process.stdout.write(formatChangelog(changelog, options.format), (error) => (error ? reject(error) : resolve())));
}

/** Adds `graft changelog` to the CLI. */
export function registerChangelogCommand(program: Command): Command {
  return program
    .command('changelog')
    .description("Print an extension's changelog: versions newest first, verdicts, changes, forced overrides, deprecations")
    .argument('<name>', 'the extension')
    .addOption(new Option('--registry <url>', 'gateway URL').env('GRAFT_REGISTRY_URL').default('http://127.0.0.1:4000'))
    .addOption(new Option('--token <jwt>', 'JWT with graft:admin or graft:publish:<name>').env('GRAFT_TOKEN'))
    .addOption(new Option('--format <format>', 'output format').choices(CHANGELOG_FORMATS).default('text'))
    .action((name: string, options: ChangelogCommandOptions) => runChangelogCommand(name, options));
}
