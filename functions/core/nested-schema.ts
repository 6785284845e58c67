// The JSON Schema of a declared object or array property (`items`, nested `properties`, `required`,
// bounds, patterns, …), checked on each value as a whole by Ajv, the reference JSON Schema validator.
// Reading it from a schema document happens here too, since what Ajv may run is decided at load.
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { compilePattern, MAX_PATTERN_INSTRUCTIONS } from './constraints.js';
import { describeValue } from './identifiers.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };
/** A JSON Schema for a whole object or array value (draft 2020-12). */
export type NestedSchema = { readonly [k: string]: JsonValue };

/** What a value breaks: `typeMismatch` when it is not even an object or array of the declared kind. */
export interface NestedFailure {
  readonly typeMismatch: boolean;
  /** what the value should have been, when typeMismatch: `an array` */
  readonly expected?: string;
  readonly detail: string;
}

/**
 * Schema nodes a property's schema may have once its `$ref`s are expanded. Each node is checked at most
 * once on each part of a value, so this bounds the work per value: 1,000 nodes over a megabyte of JSON
 * is seconds at worst, where definitions that each refer twice to the next would double the work with
 * every level (a few lines of schema, 2^30 checks). Real schemas of a cart or a context have tens.
 */
export const MAX_SCHEMA_NODES = 1000;

/**
 * `uniqueItems` compares every pair of items when they are objects or arrays: an item limit keeps that
 * bounded (100 items, 4,950 comparisons a value). Arrays of scalars are checked in one pass by Ajv.
 */
export const MAX_UNIQUE_ITEMS = 100;

const isObject = (v: unknown): v is { [k: string]: JsonValue } => typeof v === 'object' && v !== null && !Array.isArray(v);

// Keywords whose value is a schema, a list of schemas, or a map of names to schemas (2020-12 and the
// draft 4–7 spellings Ajv also reads).
const ONE = ['items', 'additionalItems', 'additionalProperties', 'not', 'if', 'then', 'else', 'contains', 'propertyNames', 'unevaluatedItems', 'unevaluatedProperties'];
const LISTS = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];
const MAPS = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'];
const SCALAR_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'null']);

/**
 * The schema a declared object or array property is checked with, or undefined when it says no more than
 * "an object or an array" (how `schema pin` writes a JSON column, so those documents hash as before).
 * Throws an Error with the offending place (the caller adds the property) when Ajv cannot compile it, a
 * pattern is not RE2 or too large, or `uniqueItems` is unbounded. Draft 4's boolean
 * `exclusiveMinimum`/`exclusiveMaximum` and tuple `items` are rewritten in their 2020-12 form, as the
 * property's own bounds are; `$ref`s into the document's `$defs` or `definitions` take those along.
 */
export function readNestedSchema(def: { readonly [k: string]: JsonValue }, root: { readonly [k: string]: JsonValue }): NestedSchema | undefined {
  const own: { [k: string]: JsonValue } = {};
  for (const [k, v] of Object.entries(def)) if (k !== 'description' && !k.startsWith('x-')) own[k] = v;
  const declared = own['type'];
  const types = (Array.isArray(declared) ? declared : declared === undefined ? [] : [declared]).filter((t) => t !== 'null');
  if (Object.keys(own).length === 1 && types.length === 2 && types.includes('object') && types.includes('array')) return undefined;
  // Null is every property's business (it passes), so the type is kept without it: a document and the one
  // `schema pin` writes from it (which adds null back) read the same.
  if (declared !== undefined) own['type'] = types.length === 1 ? types[0]! : types;
  if (JSON.stringify(own).includes('"$ref"')) {
    for (const k of ['$defs', 'definitions']) if (root[k] !== undefined && own[k] === undefined) own[k] = root[k]!;
  }
  const patterns: string[] = [];
  const schema = normalise(own, '', patterns) as NestedSchema;
  let instructions = 0;
  for (const p of patterns) {
    try {
      instructions += compilePattern(p).programSize();
    } catch (err) {
      throw new Error(`pattern ${JSON.stringify(p)} is not a regular expression Tributary can run: ${(err as Error).message} (patterns run on RE2, a linear-time engine: no lookaround or backreferences)`);
    }
  }
  const nodes = expandedSize(schema);
  if (nodes > MAX_SCHEMA_NODES) {
    throw new Error(`its schema has more than ${MAX_SCHEMA_NODES} nodes once its $refs are expanded: each node is checked on every part of a value it applies to, so hostile values could stall the partition`);
  }
  if (instructions > MAX_PATTERN_INSTRUCTIONS) {
    throw new Error(`its patterns compile to ${instructions} RE2 instructions in all, more than ${MAX_PATTERN_INSTRUCTIONS}: matching costs instructions × characters, so hostile values could stall the partition`);
  }
  validatorOf(schema);
  return schema;
}

function normalise(s: JsonValue, at: string, patterns: string[]): JsonValue {
  if (!isObject(s)) return s; // true, false: schemas too
  const out: { [k: string]: JsonValue } = { ...s };
  for (const [exclusive, bound] of [['exclusiveMinimum', 'minimum'], ['exclusiveMaximum', 'maximum']] as const) {
    if (out[exclusive] === false) delete out[exclusive];
    if (out[exclusive] !== true) continue;
    if (typeof out[bound] !== 'number') throw new Error(`${place(at)}"${exclusive}": true needs a numeric "${bound}"`);
    out[exclusive] = out[bound]!;
    delete out[bound];
  }
  if (Array.isArray(out['items'])) {
    // draft 4–7 tuples: items [a, b] with additionalItems c is 2020-12's prefixItems [a, b] with items c
    out['prefixItems'] = out['items'];
    if (out['additionalItems'] !== undefined) out['items'] = out['additionalItems']!;
    else delete out['items'];
    delete out['additionalItems'];
  }
  if (out['uniqueItems'] === true && !scalarItems(out['items']) && !(typeof out['maxItems'] === 'number' && out['maxItems'] <= MAX_UNIQUE_ITEMS)) {
    throw new Error(`${place(at)}"uniqueItems" needs "maxItems" of at most ${MAX_UNIQUE_ITEMS}, or items of a scalar type (every pair of items is compared)`);
  }
  if (typeof out['pattern'] === 'string') patterns.push(out['pattern']);
  if (isObject(out['patternProperties'])) patterns.push(...Object.keys(out['patternProperties']));
  for (const k of ONE) if (out[k] !== undefined) out[k] = normalise(out[k]!, `${at}/${k}`, patterns);
  for (const k of LISTS) if (Array.isArray(out[k])) out[k] = (out[k] as JsonValue[]).map((v, i) => normalise(v, `${at}/${k}/${i}`, patterns));
  for (const k of MAPS) {
    const map = out[k];
    if (isObject(map)) out[k] = Object.fromEntries(Object.entries(map).map(([name, v]) => [name, normalise(v, `${at}/${k}/${name}`, patterns)]));
  }
  return out;
}

/**
 * How many schema nodes a check can visit: each node counted once per path that reaches it through
 * `$ref`s (memoised per pointer, so counting is linear in the document). A `$ref` must be a local JSON
 * pointer; a recursive one, or `$dynamicRef`, is refused, since with `anyOf` it can branch at every level
 * of a value.
 */
function expandedSize(root: NestedSchema): number {
  const memo = new Map<string, number>();
  const open = new Set<string>();
  const sizeAt = (node: JsonValue, pointer: string): number => {
    if (!isObject(node)) return 1;
    const known = memo.get(pointer);
    if (known !== undefined) return known;
    if (open.has(pointer)) throw new Error(`${place(pointer)}recursive "$ref": a schema that refers to itself is not checked (it could branch at every level of a value)`);
    if (node['$dynamicRef'] !== undefined || node['$recursiveRef'] !== undefined) throw new Error(`${place(pointer)}"$dynamicRef" and "$recursiveRef" are not supported`);
    open.add(pointer);
    let n = 1;
    const ref = node['$ref'];
    if (ref !== undefined) {
      const target = typeof ref === 'string' ? resolvePointer(root, ref) : undefined;
      if (target === undefined) throw new Error(`${place(pointer)}"$ref" ${JSON.stringify(ref)} does not resolve to a place in this document (refer to "#/$defs/…" or "#/definitions/…")`);
      n += sizeAt(target.node, target.pointer);
    }
    const add = (child: JsonValue | undefined, key: string): void => {
      if (child !== undefined) n = Math.min(n + sizeAt(child, `${pointer}/${key}`), MAX_SCHEMA_NODES + 1);
    };
    for (const k of ONE) add(node[k], k);
    for (const k of LISTS) if (Array.isArray(node[k])) (node[k] as JsonValue[]).forEach((v, i) => add(v, `${k}/${i}`));
    // definitions are checked only where a $ref brings them
    for (const k of MAPS) {
      const map = node[k];
      if (k !== '$defs' && k !== 'definitions' && isObject(map)) for (const [name, v] of Object.entries(map)) add(v, `${k}/${escapePointer(name)}`);
    }
    open.delete(pointer);
    memo.set(pointer, n);
    return n;
  };
  return sizeAt(root, '');
}

const escapePointer = (name: string): string => name.replace(/~/g, '~0').replace(/\//g, '~1');

function resolvePointer(root: NestedSchema, ref: string): { node: JsonValue; pointer: string } | undefined {
  if (ref !== '#' && !ref.startsWith('#/')) return undefined;
  let node: JsonValue | undefined = root as JsonValue;
  let decoded: string;
  try {
    decoded = decodeURIComponent(ref.slice(1));
  } catch {
    return undefined;
  }
  const parts = decoded === '' ? [] : decoded.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  for (const part of parts) {
    node = Array.isArray(node) ? node[Number(part)] : isObject(node) ? node[part] : undefined;
    if (node === undefined) return undefined;
  }
  return { node, pointer: parts.map(escapePointer).map((p) => `/${p}`).join('') };
}

const place = (at: string): string => (at === '' ? '' : `at ${at}: `);

const scalarItems = (items: JsonValue | undefined): boolean => {
  if (!isObject(items)) return false;
  const t = items['type'];
  return (Array.isArray(t) ? t : [t]).every((x) => typeof x === 'string' && SCALAR_TYPES.has(x));
};

/**
 * Patterns run on RE2 (see compilePattern) rather than V8's backtracking engine, which one record could
 * stall its partition with; readNestedSchema has already bounded their size.
 */
const re2 = Object.assign((pattern: string) => {
  const re = compilePattern(pattern);
  return { test: (s: string): boolean => re.matcher(s).find(), toString: (): string => pattern };
}, { code: 'tributaryRe2' });

// strict: false lets annotations and Tributary's x- hints through; formats are annotations, as 2020-12
// makes them by default (a property's own date and date-time are its column type instead). Made on first
// use: a container whose schemas declare no object or array property never builds it.
let ajv: Ajv2020 | undefined;
const validatorFactory = (): Ajv2020 =>
  (ajv ??= new Ajv2020({ strict: false, validateFormats: false, allErrors: false, addUsedSchema: false, code: { regExp: re2 } }));

// A declaration is read once per container: each schema compiles once, looked up by identity per value.
const byText = new Map<string, ValidateFunction>();
const byObject = new WeakMap<NestedSchema, ValidateFunction>();

function validatorOf(schema: NestedSchema): ValidateFunction {
  let v = byObject.get(schema);
  if (v !== undefined) return v;
  const text = JSON.stringify(schema);
  v = byText.get(text);
  if (v === undefined) {
    try {
      v = validatorFactory().compile(schema);
    } catch (err) {
      throw new Error(`not a JSON Schema Ajv can compile: ${(err as Error).message.slice(0, 300)}`);
    }
    byText.set(text, v);
  }
  byObject.set(schema, v);
  return v;
}

/**
 * What a (non-null) value breaks of its property's nested schema, or undefined. With `withhold` (an x-pii
 * property) the detail names the rule broken but neither the value nor where in it.
 */
export function nestedSchemaFailure(value: unknown, schema: NestedSchema, withhold = false): NestedFailure | undefined {
  const validate = validatorOf(schema);
  if (validate(value)) return undefined;
  const e = validate.errors?.[0];
  if (e === undefined) return { typeMismatch: false, detail: 'does not match its schema' };
  if (e.instancePath === '' && e.keyword === 'type') {
    const expected = kindOf(e);
    return { typeMismatch: true, expected, detail: `expected ${expected}, got ${describeValue(value)}` };
  }
  return { typeMismatch: false, detail: withhold ? `breaks its schema's "${e.keyword}"` : describeError(e) };
}

const kindOf = (e: ErrorObject): string => {
  const t = (e.params as { type?: string | string[] }).type;
  return ([] as string[]).concat(t ?? 'object').map((x) => (x === 'array' || x === 'object' || x === 'integer' ? `an ${x}` : `a ${x}`)).join(' or ');
};

/** Ajv's message and where in the value (a JSON pointer); never a value, only a key it names. */
function describeError(e: ErrorObject): string {
  const extra = e.keyword === 'additionalProperties' ? ` (${describeValue((e.params as { additionalProperty: string }).additionalProperty)})`
    : e.keyword === 'propertyNames' ? ` (${describeValue((e.params as { propertyName: string }).propertyName)})` : '';
  const at = e.instancePath === '' ? '' : ` at ${describeValue(e.instancePath)}`;
  return `${e.message ?? 'does not match its schema'}${extra}${at}`;
}
