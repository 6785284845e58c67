// One SQL statement as ClickHouse's own parser reads it, for the commands that run a user's query (`sql`,
// `serve`): several statements refused, the query's FORMAT and INTO OUTFILE found, and its top-level AST
// node, so reads can be told from writes without a hand-written parser.
import type { ClickHouseClient } from '@clickhouse/client';

/** Top-level AST nodes (EXPLAIN AST) of statements that only read. */
export const READ_STATEMENTS = /^(SelectWithUnionQuery|SelectIntersectExceptQuery|SelectQuery|Show\w*|Describe\w*|Explain|Exists\w*)\b/;

export interface Statement {
  /** the statement as ClickHouse formats it: one clause per line, literals escaped, so clause lines cannot be forged */
  readonly formatted: string;
  /** the query's own FORMAT clause */
  readonly format: string | undefined;
  readonly intoOutfile: boolean;
}

/** A result stream's bytes. */
export async function streamBytes(stream: AsyncIterable<Buffer | string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks);
}

/**
 * Parses the query with ClickHouse's parser (formatQuery), which refuses several statements. Nothing of the
 * query runs: it travels as a bound string parameter. chDB would otherwise run `SELECT 1; DROP …` as two.
 * A parse error is ClickHouse's, as the client raised it.
 */
export async function parseStatement(client: ClickHouseClient, query: string): Promise<Statement> {
  const rs = await client.query({ query: 'SELECT formatQuery({q:String}) AS f', query_params: { q: query }, format: 'JSONEachRow' });
  const lines = (await rs.json<{ f: string }>())[0]!.f.trimEnd().split('\n');
  const format = /^FORMAT (\S+)$/.exec(lines.at(-1) ?? '')?.[1];
  return { formatted: (format ? lines.slice(0, -1) : lines).join('\n'), format, intoOutfile: lines.some((l) => l.startsWith('INTO OUTFILE ')) };
}

/** The statement's AST as EXPLAIN AST prints it; its first word is the top-level node (SelectWithUnionQuery, InsertQuery, …). */
export async function statementAst(client: ClickHouseClient, s: Statement, params?: Record<string, string | null>): Promise<{ ast: string; kind: string }> {
  const { stream } = await client.exec({
    query: `EXPLAIN AST ${s.formatted}`, clickhouse_settings: { default_format: 'TabSeparatedRaw' }, ...(params ? { query_params: params } : {}),
  });
  const ast = (await streamBytes(stream)).toString('utf8');
  return { ast, kind: /^\s*(\w+)/.exec(ast)?.[1] ?? 'unknown' };
}

/**
 * The settings of a statement's SETTINGS clauses (formatQuery puts each on its own line, its literals escaped),
 * or undefined when a clause does not read as `name = value, …`.
 */
function querySettings(formatted: string): { clauses: number; settings: Array<[string, string]> } | undefined {
  const settings: Array<[string, string]> = [];
  let clauses = 0;
  for (const line of formatted.split('\n')) {
    let rest = /^\s*SETTINGS (.*)$/.exec(line)?.[1];
    if (rest === undefined) continue;
    clauses++;
    while (rest !== '') {
      const a = /^(\w+) = ('(?:[^'\\]|\\.|'')*'|[^,']*?)(?:, |$)/.exec(rest);
      if (!a || a[0] === '') return undefined;
      settings.push([a[1]!, a[2]!.replace(/^'([\s\S]*)'$/, '$1')]);
      rest = rest.slice(a[0].length);
    }
  }
  return { clauses, settings };
}

/**
 * Whether the statement's own SETTINGS ask to lift read-only (readonly other than 1 or 2), or cannot be read to
 * tell. Such settings last for their query only; the readonly *setting* is not what keeps a read a read here
 * (set in chDB's one session it would never let the process write again): the statement's AST is.
 */
/**
 * The first setting of the statement's own SETTINGS clauses that `allowed` refuses ('' when a clause cannot be
 * read to tell), or undefined when all pass. A read-only request's URL settings are allow-listed; so must its
 * SETTINGS clauses be: some name files the process reads (format_template_row, format_schema) or writes
 * (output_format_schema), so a SELECT could read ~/.aws/credentials back in its error.
 */
export function refusedSetting(s: Statement, ast: string, allowed: (name: string, value: string) => boolean): string | undefined {
  const sets = (ast.match(/^\s*Set\b/gm) ?? []).length;
  if (sets === 0) return undefined;
  const inQuery = querySettings(s.formatted);
  if (inQuery === undefined || inQuery.clauses !== sets) return '';
  return inQuery.settings.find(([name, value]) => !allowed(name, value))?.[0];
}

export function liftsReadOnly(s: Statement, ast: string): boolean {
  const sets = (ast.match(/^\s*Set\b/gm) ?? []).length;
  if (sets === 0) return false;
  const inQuery = querySettings(s.formatted);
  return inQuery === undefined || inQuery.clauses !== sets || inQuery.settings.some(([name, value]) => name === 'readonly' && value !== '1' && value !== '2');
}
