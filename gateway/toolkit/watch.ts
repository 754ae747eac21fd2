// Watches an extension folder for source changes with node:fs.watch, one non-recursive
// watcher per directory (node_modules, generated/ and dot-folders are skipped, and
// symlinks are never followed), and reports the changed files once they settle.
// Editors that save by writing a temp file and renaming it still show up: the directory
// is watched, not the file.
import { watch, type FSWatcher } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';

const SKIPPED_DIRS = new Set(['node_modules', 'generated', 'dist', 'coverage']);
/** Files whose change means the extension must restart (sources, SDL, manifest). */
const WATCHED_FILE = /\.(ts|mts|cts|js|mjs|cjs|graphql|gql|json)$/;
const IGNORED_FILE = /(^|\/)(package-lock\.json|tsconfig\.tsbuildinfo)$|~$|\.sw[px]$/;
const MAX_DEPTH = 6;

export interface TreeWatcher {
  close(): void;
}

export interface WatchOptions {
  /** Quiet period before reporting (default 250 ms). */
  debounceMs?: number;
}

async function directoriesOf(root: string, depth = 0): Promise<string[]> {
  const found = [root];
  if (depth >= MAX_DEPTH) return found;
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.startsWith('.') || SKIPPED_DIRS.has(entry.name)) continue;
    found.push(...(await directoriesOf(join(root, entry.name), depth + 1)));
  }
  return found;
}

/** Calls `onChange` with the changed files (relative to root, sorted) after each burst of changes. */
export async function watchTree(root: string, onChange: (files: string[]) => void, options: WatchOptions = {}): Promise<TreeWatcher> {
  const debounceMs = options.debounceMs ?? 250;
  const watchers = new Map<string, FSWatcher>();
  const pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const flush = (): void => {
    timer = undefined;
    if (closed || pending.size === 0) return;
    const files = [...pending].sort();
    pending.clear();
    onChange(files);
  };

  const sync = async (): Promise<void> => {
    const directories = new Set(await directoriesOf(root));
    if (closed) return;
    for (const [dir, watcher] of watchers) {
      if (!directories.has(dir)) {
        watcher.close();
        watchers.delete(dir);
      }
    }
    for (const dir of directories) {
      if (watchers.has(dir)) continue;
      try {
        const watcher = watch(dir, { persistent: true }, (_event, filename) => {
          if (closed) return;
          const name = filename ? relative(root, join(dir, filename.toString())) : undefined;
          // A new or removed folder: watch what is there now.
          void sync();
          if (name === undefined || !WATCHED_FILE.test(name) || IGNORED_FILE.test(name)) return;
          pending.add(name.split('\\').join('/'));
          if (timer) clearTimeout(timer);
          timer = setTimeout(flush, debounceMs);
        });
        watcher.on('error', () => {
          watcher.close();
          watchers.delete(dir);
        });
        watchers.set(dir, watcher);
      } catch {
        // The folder vanished between listing and watching.
      }
    }
  };

  await sync();
  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
    },
  };
}
