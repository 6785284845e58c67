// The documentation's shape: README.md is the front door (short, and it links every page under docs/),
// and no relative link in README.md or docs/*.md points at a file that does not exist.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const README = join(ROOT, 'README.md');
const DOCS = join(ROOT, 'docs');
const MAX_README_LINES = 250;

const docPages = (): string[] => readdirSync(DOCS).filter((n) => n.endsWith('.md')).sort().map((n) => join(DOCS, n));

/** Markdown link targets, `[text](target)` and `[label]: target`, outside fenced and inline code. */
export function linkTargets(markdown: string): string[] {
  const prose = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
  const targets: string[] = [];
  for (const m of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) targets.push(m[1]!);
  for (const m of prose.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/gm)) targets.push(m[1]!);
  return targets;
}

/** A target that names a file of this repository: no scheme, no protocol-relative URL, not a bare #anchor. */
const isRelative = (target: string): boolean => !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith('//') && !target.startsWith('#');

/** The file a relative link points at, with its #anchor and ?query removed. */
const linkedFile = (from: string, target: string): string => resolve(dirname(from), decodeURIComponent(target.replace(/[#?].*$/, '')));

describe('docs', () => {
  it('finds link targets, and leaves code alone', () => {
    const md = 'See [lake](docs/lake.md#compaction) and [site](https://example.com).\n[ref]: ./x.md\n`[not](a-link.md)`\n```\n[nor](this.md)\n```\n';
    assert.deepEqual(linkTargets(md), ['docs/lake.md#compaction', 'https://example.com', './x.md']);
    assert.equal(isRelative('docs/lake.md'), true);
    assert.equal(isRelative('https://ajv.js.org'), false);
    assert.equal(isRelative('mailto:a@b.c'), false);
    assert.equal(isRelative('#two-commands'), false);
  });

  it(`keeps README.md to at most ${MAX_README_LINES} lines`, () => {
    const lines = readFileSync(README, 'utf8').replace(/\n$/, '').split('\n').length;
    assert.ok(lines <= MAX_README_LINES, `README.md has ${lines} lines`);
  });

  it('links every page under docs/ from README.md', () => {
    const pages = docPages();
    assert.ok(pages.length > 0, 'docs/ has pages');
    const linked = new Set(linkTargets(readFileSync(README, 'utf8')).filter(isRelative).map((t) => linkedFile(README, t)));
    assert.deepEqual(pages.filter((p) => !linked.has(p)).map((p) => relative(ROOT, p)), [], 'pages README.md does not link');
  });

  it('has no relative link to a file that does not exist', () => {
    const broken = [README, ...docPages()].flatMap((file) => linkTargets(readFileSync(file, 'utf8'))
      .filter(isRelative)
      .filter((t) => !existsSync(linkedFile(file, t)))
      .map((t) => `${relative(ROOT, file)} → ${t}`));
    assert.deepEqual(broken, []);
  });
});
