// The JSON Schema of a declared object or array property (`items`, nested `properties`, `required`,
// bounds, patterns, …), checked on each value as a whole by Ajv, the reference JSON Schema validator.
// Reading it from a schema document happens here too, since what Ajv may run is decided at load.
import { Ajv2020, str, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { compilePattern, isMultipleOf, unrunnablePattern } from './constraints.js';
import { FORMATS } from './formats.js';
import { MAX_DOCUMENT_SCHEMA_NODES } from './keywords.js';
import { describeValue } from '../identifiers.js';
import { checkCost, isNode as isObject, place, SCHEMA_LISTS, SCHEMA_MAPS, SCHEMA_ONE, type JsonValue } from './nested-schema-cost.js';

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
 * The schema a declared object or array property is checked with, or undefined when it says no more than
 * "an object or an array" (how `schema pin` writes a JSON column, so those documents hash as before).
 * Throws an Error with the offending place (the caller adds the property) when Ajv cannot compile it, a
 * pattern is not RE2, or checking a value could cost too much (nested-schema-cost.ts), or `cost` (the
 * document's nodes so far) would pass MAX_DOCUMENT_SCHEMA_NODES. Draft 4's boolean
 * `exclusiveMinimum`/`exclusiveMaximum` and tuple `items` are rewritten in their 2020-12 form, as the
 * property's own bounds are; `$ref`s into the document's `$defs` or `definitions` take those along.
 */
export function readNestedSchema(def: { readonly [k: string]: JsonValue }, root: { readonly [k: string]: JsonValue }, cost?: { nodes: number }): NestedSchema | undefined {
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
  for (const p of patterns) {
    const unrunnable = unrunnablePattern(p);
    if (unrunnable !== undefined) throw new Error(`pattern ${JSON.stringify(p)} ${unrunnable}`);
  }
  const nodes = checkCost(schema);
  // counted before Ajv compiles it: the document's total bounds what loading it costs
  if (cost !== undefined) cost.nodes += nodes;
  if (cost !== undefined && cost.nodes > MAX_DOCUMENT_SCHEMA_NODES) {
    throw new Error(`its object or array schema brings the document's schema nodes to ${cost.nodes}, more than ${MAX_DOCUMENT_SCHEMA_NODES} (MAX_DOCUMENT_SCHEMA_NODES: each node is compiled when a container loads the schema)`);
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
  if (typeof out['pattern'] === 'string') patterns.push(out['pattern']);
  if (isObject(out['patternProperties'])) patterns.push(...Object.keys(out['patternProperties']));
  for (const k of SCHEMA_ONE) if (out[k] !== undefined) out[k] = normalise(out[k]!, `${at}/${k}`, patterns);
  for (const k of SCHEMA_LISTS) if (Array.isArray(out[k])) out[k] = (out[k] as JsonValue[]).map((v, i) => normalise(v, `${at}/${k}/${i}`, patterns));
  for (const k of SCHEMA_MAPS) {
    const map = out[k];
    if (isObject(map)) out[k] = Object.fromEntries(Object.entries(map).map(([name, v]) => [name, normalise(v, `${at}/${k}/${name}`, patterns)]));
  }
  return out;
}

/**
 * The two patterns of the 2020-12 meta-schema that Ajv checks every schema with ($anchor names and $ref
 * fragments): fixed text that runs in linear time on V8's engine too. On re2js, `[^#]` (all of Unicode but
 * one character) cost each container 7 MB of RSS and ~10 ms at start.
 */
const META_SCHEMA_PATTERNS: ReadonlySet<string> = new Set(['^[A-Za-z_][-A-Za-z0-9._]*$', '^[^#]*#?$']);

/**
 * Patterns run on RE2 (see compilePattern) rather than V8's backtracking engine, which one record could
 * stall its partition with; readNestedSchema has already bounded their size.
 */
const re2 = Object.assign((pattern: string, flags?: string) => {
  if (META_SCHEMA_PATTERNS.has(pattern)) return new RegExp(pattern, flags);
  const re = compilePattern(pattern);
  return { test: (s: string): boolean => re.matcher(s).find(), toString: (): string => pattern };
}, { code: 'tributaryRe2' });

// strict: false lets annotations and Tributary's x- hints through. Made on first use: a container whose
// schemas declare no object or array property never builds it.
let ajv: Ajv2020 | undefined;
function validatorFactory(): Ajv2020 {
  if (ajv) return ajv;
  ajv = new Ajv2020({
    strict: false, allErrors: false, addUsedSchema: false, code: { regExp: re2 },
    // a value's own properties only: `required: ["constructor"]` is not met by {} (every object inherits one)
    ownProperties: true,
    // the formats a property's own `format` asserts; others are annotations (Ajv would only warn)
    formats: Object.fromEntries(Object.entries(FORMATS).map(([name, validate]) => [name, { type: 'string', validate }])),
    logger: false,
  });
  // Two keywords replaced, for the same answers as a property's own keywords give. Ajv's multipleOf
  // divides in binary (19.99 is not a multiple of 0.01 there); this one is exact in decimal.
  ajv.removeKeyword('multipleOf');
  ajv.addKeyword({
    keyword: 'multipleOf', type: 'number', schemaType: 'number',
    error: { message: ({ schemaCode }) => str`must be multiple of ${schemaCode}` },
    validate: (step: number, v: number) => isMultipleOf(v, step),
  });
  // Ajv's uniqueItems compares every pair of items unless their declared type is a scalar (a megabyte of
  // small arrays: minutes), and that shortcut skips items of other types. This one is one pass: each
  // item's canonical JSON in a set.
  ajv.removeKeyword('uniqueItems');
  ajv.addKeyword({
    keyword: 'uniqueItems', type: 'array', schemaType: 'boolean',
    error: { message: 'must NOT have duplicate items' },
    validate: (on: boolean, items: unknown[]) => !on || allDistinct(items),
  });
  return ajv;
}

function allDistinct(items: readonly unknown[]): boolean {
  const seen = new Set<string>();
  for (const item of items) {
    const key = canonicalJson(item);
    if (seen.has(key)) return false;
    seen.add(key);
  }
  return true;
}

/** JSON with object keys sorted: equal in JSON Schema's sense (key order aside) is equal text. */
const canonicalJson = (v: unknown): string =>
  Array.isArray(v) ? `[${v.map(canonicalJson).join(',')}]`
    : isObject(v) ? `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(',')}}`
      : JSON.stringify(v);

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
  // Only the property's own type says what kind of value it takes; a failed anyOf branch's type does not.
  if (e.instancePath === '' && e.schemaPath === '#/type') {
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
