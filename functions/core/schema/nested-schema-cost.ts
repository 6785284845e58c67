// What checking one value against a declared object or array schema may cost, decided when the schema is
// read: a schema that loads must not let a hostile value (up to a megabyte, 32 levels deep) stall its
// partition. The cost of a check is, for each part of the value, the schema nodes that apply to that
// part (and the patterns among them), so that is what is bounded, place by place.
import { compilePattern, MAX_PATTERN_INSTRUCTIONS } from './constraints.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };
type Node = { readonly [k: string]: JsonValue };

/** Schema nodes once `$ref`s are expanded: what Ajv compiles. Real schemas of a cart or a context have tens. */
export const MAX_SCHEMA_NODES = 1000;

/**
 * Schema nodes that may apply to any one part of a value. Ajv takes ~0.25 µs per node and part when the
 * node fails (it records an error): 100 nodes over a megabyte of small items measured 2.2 s, 1,000 took
 * 131 s. An `enum` counts one node more per 20 entries (each entry is a comparison).
 */
export const MAX_NODES_PER_PLACE = 100;
const ENUM_ENTRIES_PER_NODE = 20;

// Keywords whose value is a schema, a list of schemas or a map of names to schemas, in 2020-12 and in the
// draft 4–7 spellings Ajv also runs (`dependencies`, `additionalItems`, `definitions`). Those that apply
// to the value itself, those that apply to its items, properties or keys, and definitions (applied only
// through `$ref`).
const IN_PLACE_ONE = ['not', 'if', 'then', 'else'];
const IN_PLACE_LISTS = ['allOf', 'anyOf', 'oneOf'];
const IN_PLACE_MAPS = ['dependentSchemas', 'dependencies'];
const CHILD_ONE = ['items', 'additionalItems', 'additionalProperties', 'contains', 'propertyNames', 'unevaluatedItems', 'unevaluatedProperties'];
const CHILD_LISTS = ['prefixItems'];
const CHILD_MAPS = ['properties', 'patternProperties'];
export const SCHEMA_ONE = [...IN_PLACE_ONE, ...CHILD_ONE];
export const SCHEMA_LISTS = [...IN_PLACE_LISTS, ...CHILD_LISTS];
export const SCHEMA_MAPS = [...IN_PLACE_MAPS, ...CHILD_MAPS, '$defs', 'definitions'];

/** A JSON object: in a schema, a schema node (true and false are schemas too, and check nothing costly). */
export const isNode = (v: unknown): v is { [k: string]: JsonValue } => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The schema's nodes once its $refs are expanded. Throws an Error naming the place when the schema recurs, has a `$ref` that does not point into it,
 * expands to more than MAX_SCHEMA_NODES nodes, or lets more than MAX_NODES_PER_PLACE nodes or
 * MAX_PATTERN_INSTRUCTIONS pattern instructions apply to one part of a value.
 */
export function checkCost(root: Node): number {
  const refs = new Map<Node, Node>();
  const nodes = countExpanded(root, refs);
  const cluster = inPlace(refs);
  const budget = { places: 0 };
  widest([root].flatMap(cluster), '', cluster, budget);
  return nodes;
}

/** Places the analysis below may visit: far more than schemas within MAX_SCHEMA_NODES have. */
const MAX_PLACES = 100_000;

/**
 * Nodes with `$ref`s expanded, each counted once per path that reaches it (memoised per pointer, so the
 * count is linear in the document). A recursive `$ref`, or `$dynamicRef`, is refused: with `anyOf` it can
 * branch at every level of a value. Records each `$ref`'s target for the pass below.
 */
function countExpanded(root: Node, refs: Map<Node, Node>): number {
  const memo = new Map<string, number>();
  const open = new Set<string>();
  const sizeAt = (node: JsonValue, pointer: string): number => {
    if (!isNode(node)) return 1;
    const known = memo.get(pointer);
    if (known !== undefined) return known;
    if (open.has(pointer)) throw new Error(`${place(pointer)}recursive "$ref": a schema that refers to itself is not checked (it could branch at every level of a value)`);
    if (node['$dynamicRef'] !== undefined || node['$recursiveRef'] !== undefined) throw new Error(`${place(pointer)}"$dynamicRef" and "$recursiveRef" are not supported`);
    open.add(pointer);
    let n = 1;
    const ref = node['$ref'];
    if (ref !== undefined) {
      const target = typeof ref === 'string' ? resolvePointer(root, ref) : undefined;
      if (target === undefined || !isNode(target.node)) throw new Error(`${place(pointer)}"$ref" ${JSON.stringify(ref)} does not resolve to a schema in this document (refer to "#/$defs/…" or "#/definitions/…")`);
      refs.set(node, target.node);
      n += sizeAt(target.node, target.pointer);
    }
    const add = (child: JsonValue | undefined, key: string): void => {
      if (child !== undefined) n = Math.min(n + sizeAt(child, `${pointer}/${key}`), MAX_SCHEMA_NODES + 1);
    };
    for (const k of SCHEMA_ONE) add(node[k], k);
    for (const k of SCHEMA_LISTS) if (Array.isArray(node[k])) (node[k] as JsonValue[]).forEach((v, i) => add(v, `${k}/${i}`));
    for (const k of [...IN_PLACE_MAPS, ...CHILD_MAPS]) {
      const map = node[k];
      if (isNode(map)) for (const [name, v] of Object.entries(map)) add(v, `${k}/${escapePointer(name)}`);
    }
    open.delete(pointer);
    memo.set(pointer, n);
    return n;
  };
  const size = sizeAt(root, '');
  if (size > MAX_SCHEMA_NODES) {
    throw new Error(`the schema has more than ${MAX_SCHEMA_NODES} nodes once its $refs are expanded`);
  }
  return size;
}

/** The nodes that apply where `node` applies: itself, its `$ref` and its in-place applicators. */
const inPlace = (refs: ReadonlyMap<Node, Node>) => {
  const cluster = (node: JsonValue | undefined): Node[] => {
    if (!isNode(node)) return [];
    const out: Node[] = [node];
    const target = refs.get(node);
    if (target) out.push(...cluster(target));
    for (const k of IN_PLACE_ONE) out.push(...cluster(node[k]));
    for (const k of IN_PLACE_LISTS) if (Array.isArray(node[k])) for (const v of node[k] as JsonValue[]) out.push(...cluster(v));
    for (const k of IN_PLACE_MAPS) {
      const map = node[k];
      if (isNode(map)) for (const v of Object.values(map)) out.push(...cluster(v));
    }
    return out;
  };
  return cluster;
};

/**
 * Checks the nodes that apply to one part of a value (`here`), then, for each kind of child the part may
 * have, the nodes that may apply to it together: a named property gets its `properties` entry (or
 * `additionalProperties`), every `patternProperties` entry (a name may match them all) and
 * `unevaluatedProperties`; an item its `prefixItems` entry or `items`, with `contains` and
 * `unevaluatedItems`; a key the `propertyNames` schemas.
 */
function widest(here: Node[], at: string, cluster: (n: JsonValue | undefined) => Node[], budget: { places: number }): void {
  if (++budget.places > MAX_PLACES) throw new Error(`the schema has more than ${MAX_PLACES} places to check once its $refs are expanded`);
  let nodes = 0;
  let instructions = 0;
  for (const n of here) {
    nodes += 1 + (Array.isArray(n['enum']) ? Math.ceil(n['enum'].length / ENUM_ENTRIES_PER_NODE) : 0);
    if (typeof n['pattern'] === 'string') instructions += compilePattern(n['pattern']).programSize();
    if (isNode(n['patternProperties'])) for (const p of Object.keys(n['patternProperties'])) instructions += compilePattern(p).programSize();
  }
  if (nodes > MAX_NODES_PER_PLACE) {
    throw new Error(`${nodes} schema nodes apply to the value ${at === '' ? 'itself' : `at ${at}`}, more than ${MAX_NODES_PER_PLACE} (enum entries count one per ${ENUM_ENTRIES_PER_NODE}): each is checked on every such part of a value, so hostile values could stall the partition`);
  }
  if (instructions > MAX_PATTERN_INSTRUCTIONS) {
    throw new Error(`patterns of ${instructions} RE2 instructions in all apply to the value ${at === '' ? 'itself' : `at ${at}`}, more than ${MAX_PATTERN_INSTRUCTIONS}: matching costs instructions × characters, so hostile values could stall the partition`);
  }
  const next = (child: Node[], where: string): void => {
    if (child.length > 0) widest(child, `${at}/${where}`, cluster, budget);
  };
  const map = (n: Node, k: string): Record<string, JsonValue> => (isNode(n[k]) ? n[k] as Record<string, JsonValue> : {});
  const anyName = here.flatMap((n) => [...Object.values(map(n, 'patternProperties')).flatMap(cluster), ...cluster(n['unevaluatedProperties'])]);
  const names = new Set(here.flatMap((n) => Object.keys(map(n, 'properties'))));
  for (const name of names) {
    next([...here.flatMap((n) => cluster(Object.hasOwn(map(n, 'properties'), name) ? map(n, 'properties')[name] : n['additionalProperties'])), ...anyName], escapePointer(name));
  }
  next([...here.flatMap((n) => cluster(n['additionalProperties'])), ...anyName], '(other properties)');
  next(here.flatMap((n) => cluster(n['propertyNames'])), '(property names)');
  const anyItem = here.flatMap((n) => [...cluster(n['contains']), ...cluster(n['unevaluatedItems'])]);
  const prefix = (n: Node): JsonValue[] => (Array.isArray(n['prefixItems']) ? n['prefixItems'] : []);
  const longest = Math.max(0, ...here.map((n) => prefix(n).length));
  for (let i = 0; i < longest; i++) {
    next([...here.flatMap((n) => (i < prefix(n).length ? cluster(prefix(n)[i]) : [...cluster(n['items']), ...cluster(n['additionalItems'])])), ...anyItem], String(i));
  }
  next([...here.flatMap((n) => [...cluster(n['items']), ...cluster(n['additionalItems'])]), ...anyItem], '(items)');
}

export const escapePointer = (name: string): string => name.replace(/~/g, '~0').replace(/\//g, '~1');

/** Where in a schema, as an error message's prefix. */
export const place = (at: string): string => (at === '' ? '' : `at ${at}: `);

function resolvePointer(root: Node, ref: string): { node: JsonValue; pointer: string } | undefined {
  if (ref !== '#' && !ref.startsWith('#/')) return undefined;
  let decoded: string;
  try {
    decoded = decodeURIComponent(ref.slice(1));
  } catch {
    return undefined;
  }
  const parts = decoded === '' ? [] : decoded.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  let node: JsonValue | undefined = root as JsonValue;
  for (const part of parts) {
    node = Array.isArray(node) ? (/^(0|[1-9]\d*)$/.test(part) ? node[Number(part)] : undefined) : isNode(node) && Object.hasOwn(node, part) ? node[part] : undefined;
    if (node === undefined) return undefined;
  }
  return { node, pointer: parts.map((p) => `/${escapePointer(p)}`).join('') };
}
