// How a schema check report reads: in a terminal (text), in a pull-request comment
// (markdown), as GitHub Actions annotations (github), or for machines (json).
import { parseSubgraphSdl, type CompositionProblem } from '../composition/index.js';
import { locate, sdlCoordinates } from './federation.js';
import type { Criticality, OperationFailure, PublishVerdict, SchemaChange, SchemaCheckReport, UsageReport, Verdict } from './types.js';

export type ReportFormat = 'text' | 'json' | 'markdown' | 'github';

export const REPORT_FORMATS: readonly ReportFormat[] = ['text', 'json', 'markdown', 'github'];

/** Hidden in the markdown: lets a workflow find and update its previous comment. */
export const MARKDOWN_MARKER = '<!-- graft-schema-check -->';

const CRITICALITIES: readonly Criticality[] = ['breaking', 'dangerous', 'safe'];

function count(changes: readonly SchemaChange[]): Record<Criticality, number> {
  const counts: Record<Criticality, number> = { breaking: 0, dangerous: 0, safe: 0 };
  for (const change of changes) counts[change.criticality]++;
  return counts;
}

function countsText(changes: readonly SchemaChange[]): string {
  const counts = count(changes);
  return CRITICALITIES.map((c) => `${counts[c]} ${c}`).join(', ');
}

/** Changes grouped for display: each subgraph in order, then the API schema. */
function groups(report: SchemaCheckReport): Array<{ title: string; changes: SchemaChange[] }> {
  const result: Array<{ title: string; changes: SchemaChange[] }> = [];
  const subgraphs = [...new Set(report.changes.filter((c) => c.level === 'subgraph').map((c) => c.subgraph ?? ''))];
  for (const name of subgraphs) {
    result.push({ title: `subgraph ${name}`, changes: report.changes.filter((c) => c.level === 'subgraph' && c.subgraph === name) });
  }
  const api = report.changes.filter((c) => c.level === 'api');
  if (api.length > 0) result.push({ title: 'API schema', changes: api });
  return result;
}

function summary(report: SchemaCheckReport): string {
  const api = report.changes.filter((c) => c.level === 'api');
  const parts = [
    `changed: ${report.changedSubgraphs.join(', ') || 'nothing'}`,
    report.compositionErrors.length > 0 ? `${report.compositionErrors.length} composition errors` : `API changes: ${countsText(api)}`,
    report.operationsChecked > 0 ? `${report.affectedOperations.length} of ${report.operationsChecked} operations broken` : 'no operations checked',
  ];
  return parts.join(' · ');
}

/** What publish would do, as lines: the outcome, every finding, every rule not checked. */
function publishLines(publish: PublishVerdict | undefined, bullet: (text: string) => string): string[] {
  if (!publish) return [];
  const errors = publish.findings.filter((f) => f.severity === 'error');
  const lines = [errors.length > 0 ? `Publish would refuse it (${errors.length} finding${errors.length === 1 ? '' : 's'}):` : 'Publish would accept it.'];
  for (const f of publish.findings) lines.push(bullet(`${f.severity === 'error' ? '✖' : '!'} [${f.extension}] ${f.code}${f.path ? ` at ${f.path}` : ''} (${f.step}): ${f.message}`));
  if (publish.notChecked.length > 0) {
    lines.push('Not checked (the result above does not cover these):');
    for (const n of publish.notChecked) lines.push(bullet(`? [${n.extension}] ${n.step}: ${n.message}`));
  }
  return lines;
}

/** The traffic behind the verdict: the window, each operation a change touches, and what nothing used. */
function usageLines(usage: UsageReport | undefined, bullet: (text: string) => string): string[] {
  if (!usage) return [];
  const filters = [
    usage.minCount > 1 ? `at least ${usage.minCount} requests` : '',
    usage.excludedClients.length > 0 ? `clients ${usage.excludedClients.join(', ')} excluded` : '',
    usage.strict ? 'strict' : '',
  ].filter((f) => f !== '');
  const lines = [`Usage in the last ${usage.days} days${filters.length > 0 ? ` (${filters.join(', ')})` : ''}: ${usage.operations.length} operation${usage.operations.length === 1 ? '' : 's'} touch${usage.operations.length === 1 ? 'es' : ''} the changes.`];
  for (const o of usage.operations) {
    const clients = o.clients.map((c) => `${c.name}@${c.version} (${c.count})`).join(', ');
    lines.push(bullet(`${o.name ?? '<anonymous>'} [${o.hash.slice(0, 12)}]: ${o.count} requests, last seen ${o.lastSeen}, clients ${clients}; touches ${o.touches.join(', ')}`));
  }
  if (usage.unusedBreaking.length > 0) lines.push(bullet(`breaking-unused (nothing used it${usage.strict ? '; strict: still breaking' : '; weighs as dangerous'}): ${usage.unusedBreaking.join(', ')}`));
  return lines;
}

/** The criticality column: breaking-unused shows as such. */
function criticalityText(change: SchemaChange): string {
  return change.label ?? change.criticality;
}

// ---------------------------------------------------------------- text

const MARK: Record<Verdict, string> = { 'composition-error': '✖', breaking: '✖', dangerous: '!', safe: '✔' };

export function formatText(report: SchemaCheckReport): string {
  const lines: string[] = [`Schema check: ${report.verdict.toUpperCase()}`, summary(report), ''];
  const publish = publishLines(report.publish, (t) => `  ${t.replace(/\n/g, '\n      ')}`);
  if (publish.length > 0) lines.push(...publish, '');
  const usage = usageLines(report.usage, (t) => `  ${t}`);
  if (usage.length > 0) lines.push(...usage, '');
  for (const group of groups(report)) {
    lines.push(`Changes to the ${group.title}:`);
    const pathWidth = Math.min(40, Math.max(...group.changes.map((c) => c.path.length)));
    for (const change of group.changes) {
      lines.push(`  ${MARK[change.criticality]} ${criticalityText(change).padEnd(9)} ${change.path.padEnd(pathWidth)}  ${change.message}`);
      if (change.reason && change.criticality !== 'safe') lines.push(`      ${' '.repeat(9 + pathWidth)}${change.reason}`);
    }
    lines.push('');
  }
  if (report.changes.length === 0) lines.push('No schema changes.', '');
  const problems = (title: string, list: readonly CompositionProblem[]) => {
    if (list.length === 0) return;
    lines.push(title);
    for (const p of list) {
      lines.push(`  ✖ ${p.code}${p.subgraphs.length > 0 ? ` (${p.subgraphs.join(', ')})` : ''}${p.coordinates.length > 0 ? ` ${p.coordinates.join(', ')}` : ''}`);
      lines.push(...p.message.split('\n').map((l) => `      ${l}`));
    }
    lines.push('');
  };
  problems('Composition errors (the proposed graph does not compose):', report.compositionErrors);
  const operations = (title: string, list: readonly OperationFailure[]) => {
    if (list.length === 0) return;
    lines.push(title);
    for (const op of list) {
      lines.push(`  ${op.name}  ${op.file}:${op.line}`);
      for (const e of op.errors) lines.push(`      ${e}`);
    }
    lines.push('');
  };
  operations('Operations broken by this change:', report.affectedOperations);
  operations('Operations that already fail on the base (not caused by this change):', report.operationsFailingOnBase);
  problems('The base itself does not compose:', report.baseCompositionErrors);
  if (report.notes.length > 0) lines.push('Notes:', ...report.notes.map((n) => `  - ${n}`), '');
  return `${lines.join('\n').trimEnd()}\n`;
}

// ---------------------------------------------------------------- json

export function formatJson(report: SchemaCheckReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

// ---------------------------------------------------------------- markdown

const BADGE: Record<Verdict, string> = { 'composition-error': '❌', breaking: '❌', dangerous: '⚠️', safe: '✅' };
const DOT: Record<Criticality, string> = { breaking: '🔴', dangerous: '🟠', safe: '🟢' };

/** A table cell: no pipe, no newline, no raw HTML (an "<anonymous query #1>" would vanish). */
function cell(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

function code(text: string): string {
  return text === '' ? '' : `\`${text.replace(/`/g, "'")}\``;
}

export function formatMarkdown(report: SchemaCheckReport): string {
  const out: string[] = [
    MARKDOWN_MARKER,
    `## ${BADGE[report.verdict]} Graft schema check: \`${report.verdict}\``,
    '',
    summary(report),
    '',
  ];
  const publish = publishLines(report.publish, (t) => `- ${cell(t)}`);
  if (publish.length > 0) out.push(`**${publish[0]}**`, '', ...publish.slice(1).map((l) => (l.startsWith('- ') ? l : `\n_${l}_\n`)), '');
  const usage = usageLines(report.usage, (t) => `- ${cell(t)}`);
  if (usage.length > 0) out.push('### Usage', '', usage[0] ?? '', '', ...usage.slice(1), '');
  const changeGroups = groups(report);
  if (changeGroups.length > 0) {
    out.push('### Changes', '');
    for (const group of changeGroups) {
      const title = group.title.startsWith('subgraph ') ? `Subgraph ${code(group.title.slice(9))}` : 'API schema';
      out.push(`**${title}** (${countsText(group.changes)})`, '', '| | Change | Path | Message |', '| --- | --- | --- | --- |');
      for (const c of group.changes) {
        const why = c.reason && c.criticality !== 'safe' ? `<br>_${cell(c.reason)}_` : '';
        out.push(`| ${DOT[c.criticality]} ${criticalityText(c)} | ${code(c.type)} | ${code(c.path)} | ${cell(c.message)}${why} |`);
      }
      out.push('');
    }
  } else {
    out.push('No schema changes.', '');
  }
  const problems = (title: string, list: readonly CompositionProblem[]) => {
    if (list.length === 0) return;
    out.push(`### ${title}`, '', '| Code | Subgraphs | Coordinates | Message |', '| --- | --- | --- | --- |');
    for (const p of list) out.push(`| ${code(p.code)} | ${cell(p.subgraphs.join(', '))} | ${p.coordinates.map(code).join(', ')} | ${cell(p.message)} |`);
    out.push('');
  };
  problems('Composition errors', report.compositionErrors);
  const operations = (title: string, list: readonly OperationFailure[]) => {
    if (list.length === 0) return;
    out.push(`### ${title}`, '', '| Operation | File | Errors |', '| --- | --- | --- |');
    for (const op of list) out.push(`| ${code(op.name)} | ${code(`${op.file}:${op.line}`)} | ${op.errors.map(cell).join('<br>')} |`);
    out.push('');
  };
  operations('Operations broken by this change', report.affectedOperations);
  if (report.operationsFailingOnBase.length > 0) {
    out.push('<details><summary>Operations that already fail on the base (not caused by this change)</summary>', '');
    operations('Already failing on the base', report.operationsFailingOnBase);
    out.push('</details>', '');
  }
  problems('The base itself does not compose', report.baseCompositionErrors);
  if (report.notes.length > 0) out.push(...report.notes.map((n) => `> ${cell(n)}`), '');
  return `${out.join('\n').trimEnd()}\n`;
}

// ---------------------------------------------------------------- github

/** Where the proposed SDL of a changed subgraph is, so annotations land on its lines. */
export interface SubgraphSource {
  file: string;
  sdl: string;
}

function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

function command(kind: 'error' | 'warning' | 'notice', message: string, properties: { file?: string | undefined; line?: number | undefined; title: string }): string {
  const props = [
    ...(properties.file ? [`file=${escapeProperty(properties.file)}`] : []),
    ...(properties.file && properties.line ? [`line=${properties.line}`] : []),
    `title=${escapeProperty(properties.title)}`,
  ];
  return `::${kind} ${props.join(',')}::${escapeData(message)}`;
}

/**
 * GitHub Actions workflow commands: `::error` for breaking changes, composition errors and
 * broken operations, `::warning` for dangerous changes, so they show as annotations on the
 * pull request's files. A change is placed on the line that defines it in the proposed SDL
 * of a changed subgraph (a removed element: on its parent); safe changes are not annotated.
 */
export function formatGithub(report: SchemaCheckReport, sources: ReadonlyMap<string, SubgraphSource>): string {
  const coordinates = new Map<string, Map<string, number>>();
  for (const [name, source] of sources) {
    try {
      coordinates.set(name, sdlCoordinates(parseSubgraphSdl(name, source.sdl)));
    } catch {
      // An SDL that does not parse never reaches a report (runSchemaCheck refuses it first).
    }
  }
  const where = (subgraphs: readonly string[], paths: readonly string[]): { file?: string; line?: number } => {
    let best: { file: string; line: number; depth: number } | undefined;
    for (const name of subgraphs) {
      const source = sources.get(name);
      const lines = coordinates.get(name);
      if (!source || !lines) continue;
      for (const path of paths) {
        const found = locate(lines, path);
        if (found && (!best || found.depth > best.depth)) best = { file: source.file, ...found };
      }
    }
    return best ? { file: best.file, line: best.line } : {};
  };

  const out: string[] = [];
  const seen = new Set<string>();
  for (const change of report.changes) {
    if (change.criticality === 'safe') continue;
    const at = where(change.level === 'subgraph' ? [change.subgraph ?? ''] : report.changedSubgraphs, [change.path]);
    const key = `${at.file}:${at.line}:${change.type}:${change.path}`;
    if (seen.has(key)) continue; // the same change at subgraph and API level: one annotation
    seen.add(key);
    const level = change.level === 'api' ? 'API' : `subgraph ${change.subgraph}`;
    out.push(
      command(change.criticality === 'breaking' ? 'error' : 'warning', `${change.message}${change.reason ? `\n${change.reason}` : ''}`, {
        ...at,
        title: `${change.criticality} change (${level}): ${change.type} ${change.path}`.trim(),
      }),
    );
  }
  for (const problem of report.compositionErrors) {
    const quoted = [...problem.message.matchAll(/"([_A-Za-z][_0-9A-Za-z.]*)"/g)].map((m) => m[1]!);
    const at = where(problem.subgraphs.length > 0 ? problem.subgraphs : report.changedSubgraphs, [...problem.coordinates, ...quoted]);
    out.push(command('error', problem.message, { ...at, title: `Composition error ${problem.code}` }));
  }
  for (const op of report.affectedOperations) {
    out.push(command('error', op.errors.join('\n'), { file: op.file, line: op.line, title: `Operation ${op.name} is broken by this schema change` }));
  }
  for (const op of report.operationsFailingOnBase) {
    out.push(command('notice', op.errors.join('\n'), { file: op.file, line: op.line, title: `Operation ${op.name} already fails on the base schema` }));
  }
  for (const f of report.publish?.findings ?? []) {
    const source = sources.get(f.extension);
    out.push(command(f.severity, f.message, { ...(source ? { file: source.file } : {}), title: `Publish would refuse: ${f.code} (${f.extension})` }));
  }
  for (const n of report.publish?.notChecked ?? []) out.push(command('warning', n.message, { title: `Not checked: ${n.step} (${n.extension})` }));
  out.push(command(report.verdict === 'safe' ? 'notice' : report.verdict === 'dangerous' ? 'warning' : 'error', summary(report), { title: `Graft schema check: ${report.verdict}` }));
  return `${out.join('\n')}\n`;
}

/** Renders a report; `sources` places github annotations (other formats ignore it). */
export function formatReport(report: SchemaCheckReport, format: ReportFormat, sources: ReadonlyMap<string, SubgraphSource> = new Map()): string {
  switch (format) {
    case 'json':
      return formatJson(report);
    case 'markdown':
      return formatMarkdown(report);
    case 'github':
      return formatGithub(report, sources);
    case 'text':
      return formatText(report);
  }
}
