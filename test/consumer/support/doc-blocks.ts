// Finds the TypeScript code blocks of the documentation and what each one claims to be, from its
// info string: ```ts (a complete program: compiled and run), ```ts no-run (compiled only: it needs
// something a check cannot give, such as your DI container), ```ts fragment (a piece of a larger
// program: shown, not compiled). A first line `// path/to/file.ts` names the file the block is,
// in one project shared by all pages (as a reader builds one app while reading), so a block can
// import another's file, also one of another page; other blocks get a file of their own.
// A fragment is type-checked too when an HTML comment right above it (invisible on the rendered
// page) gives it the declarations it assumes:
//   <!-- docs-check context
//   import { Zart } from 'zart';
//   declare const zart: Zart;
//   -->
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export type BlockKind = 'program' | 'no-run' | 'fragment';

export interface DocBlock {
  /** The page, relative to the repository, e.g. `docs/testing.md`. */
  page: string;
  /** Line of the opening fence (1-based). */
  line: number;
  kind: BlockKind;
  /** Where the block is written in the scratch project: `app/<its named path>` or `pages/<page>/block-<line>.ts`. */
  file: string;
  code: string;
  /** For a fragment: the declarations its context comment gives it; then it is compiled (not run). */
  context?: string;
}

const languages = new Set(['ts', 'typescript']);
const kinds = new Set<BlockKind>(['no-run', 'fragment']);
const contextOpening = '<!-- docs-check context';
const namedFile = /^\/\/ ((?:[\w.-]+\/)*[\w.-]+\.(?:ts|mts|cts))(?:[\s:].*)?$/;

/** README.md and every .md under docs/, in a stable order. */
export function documentationPages(root: string): string[] {
  const pages = ['README.md'];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(root, dir)).sort()) {
      const path = join(dir, entry);
      if (statSync(join(root, path)).isDirectory()) walk(path);
      else if (entry.endsWith('.md')) pages.push(path);
    }
  };
  walk('docs');
  return pages;
}

/** The TypeScript blocks of one page; throws on an unknown info word, so a typo cannot skip a check. */
export function docBlocks(root: string, page: string): DocBlock[] {
  const lines = readFileSync(join(root, page), 'utf8').split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence, info] = open as unknown as [string, string, string, string];
    const end = lines.findIndex((text, j) => j > i && text.trimStart().startsWith(fence) && text.trim() === fence);
    if (end === -1) throw new Error(`${page}:${i + 1}: a code block that never closes`);
    const [language = '', ...words] = info.trim().split(/\s+/);
    if (languages.has(language)) {
      const unknown = words.filter((word) => !kinds.has(word as BlockKind));
      if (unknown.length > 0 || words.length > 1) {
        throw new Error(`${page}:${i + 1}: info string "${info}": after ts, write nothing, "no-run" or "fragment"`);
      }
      const code = lines
        .slice(i + 1, end)
        .map((text) => (text.startsWith(indent) ? text.slice(indent.length) : text))
        .join('\n');
      const named = namedFile.exec(code.split('\n')[0] ?? '');
      const context = words[0] === 'fragment' ? contextAbove(lines, i) : undefined;
      blocks.push({
        ...(context === undefined ? {} : { context }),
        page,
        line: i + 1,
        kind: (words[0] as BlockKind | undefined) ?? 'program',
        file: named?.[1] ? join('app', named[1]) : join(pageFolder(page), `block-${i + 1}.ts`),
        code: `${code}\n`,
      });
    }
    i = end;
  }
  return blocks;
}

// The lines of a `<!-- docs-check context ... -->` comment ending just above line `fence` (blank
// lines between allowed), or undefined.
function contextAbove(lines: string[], fence: number): string | undefined {
  let end = fence - 1;
  while (end >= 0 && lines[end]!.trim() === '') end--;
  if (end < 0 || lines[end]!.trim() !== '-->') return undefined;
  let start = end - 1;
  while (start >= 0 && lines[start]!.trim() !== contextOpening) start--;
  if (start < 0) return undefined;
  return `${lines.slice(start + 1, end).join('\n')}\n`;
}

/** The folder of a page's unnamed blocks in the scratch project, e.g. `pages/docs-testing`. */
function pageFolder(page: string): string {
  return join('pages', page.replace(/\.md$/, '').replace(/[^\w-]+/g, '-'));
}
