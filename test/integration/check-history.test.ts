// `graft check` on a schema folder runs the publish pipeline with no registry history: the
// rules that need it (the previous version, deprecation dates, grants without graft.json)
// are listed as not checked, and the verdict decides the exit code.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REPO_ROOT } from '../helpers/index.js';

interface JsonReport {
  verdict: string;
}

function graft(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'graft.js'), 'check', ...args], { cwd, env: { ...process.env, GRAFT_TOKEN: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('graft check on a schema folder: what needs the registry is reported, never passed silently', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'graft-check-history-'));
    await cp(join(REPO_ROOT, 'schema'), join(dir, 'base'), { recursive: true });
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('a removal on --version 2.0.0 lists the deprecation and version-order rules as not checked and exits 1 on the breaking verdict', async () => {
    const inventory = await readFile(join(dir, 'base', 'subgraphs', 'inventory.graphql'), 'utf8');
    assert.match(inventory, /price: Float!/, 'schema/ changed: update this test');
    await writeFile(join(dir, 'inventory.graphql'), inventory.replace(/\n\s*"Unit price[^\n]*\n\s*price: Float!/, ''));
    const run = await graft(['--base', 'base', '--subgraph', 'inventory=inventory.graphql', '--version', '2.0.0', '--format', 'json'], dir);
    assert.equal(run.code, 1, run.stderr);
    const report = JSON.parse(run.stdout) as JsonReport & { publish: { outcome: string; notChecked: Array<{ step: string; extension: string; message: string }> } };
    assert.equal(report.publish.outcome, 'accepted', 'nothing it could judge refuses it');
    const steps = report.publish.notChecked.map((n) => n.step);
    for (const step of ['grants', 'version-order', 'deprecation']) assert.ok(steps.includes(step), `${step} is listed as not checked: ${steps.join(', ')}`);
    assert.match(report.publish.notChecked.find((n) => n.step === 'deprecation')!.message, /Product\.price.*needs --registry/);

    const text = await graft(['--base', 'base', '--subgraph', 'inventory=inventory.graphql', '--version', '2.0.0'], dir);
    assert.match(text.stdout, /Not checked \(the result above does not cover these\):/);
    assert.match(text.stdout, /\? \[inventory\] deprecation: /);
  });

  test('--version goes with exactly one --subgraph', async () => {
    const run = await graft(['--base', 'base', '--subgraph', 'inventory=base/subgraphs/inventory.graphql', '--subgraph', 'crm=base/subgraphs/crm.graphql', '--version', '2.0.0'], dir);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--version X\.Y\.Z goes with exactly one --subgraph/);
  });
});

