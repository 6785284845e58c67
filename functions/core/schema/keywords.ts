// The JSON Schema keywords a declared event schema may use, in one place: what Tributary enforces, what it
// reads as annotation or warehouse hint, and (by omission) what it refuses. Nothing in a pushed schema is
// silently ignored: a keyword that is not listed here is refused at load, naming it.

/**
 * How a keyword is handled: `enforced` (checked on every record or value), `structure` (decides the
 * table's columns), `annotation` (documentation, asserts nothing by the standard's own rules), `hint`
 * (a Tributary warehouse hint).
 */
export type KeywordHandling = 'enforced' | 'structure' | 'annotation' | 'hint';

export interface KeywordRule {
  readonly handling: KeywordHandling;
  readonly note: string;
}

const rule = (handling: KeywordHandling, note: string): KeywordRule => ({ handling, note });

/** Keywords of the annotation vocabulary and of document identity: they assert nothing about a value. */
const ANNOTATIONS: ReadonlyMap<string, KeywordRule> = new Map([
  ['$schema', rule('annotation', 'the dialect (draft 4 to 2020-12 read alike)')],
  ['$id', rule('annotation', "the document's identifier")],
  ['id', rule('annotation', "draft 4's $id")],
  ['$comment', rule('annotation', 'a comment')],
  ['title', rule('annotation', 'names the event, when given (it must normalise to the event name)')],
  ['description', rule('annotation', 'the table or column comment in the catalog and ClickHouse')],
  ['examples', rule('annotation', 'examples')],
  ['default', rule('annotation', 'not applied: a missing value is stored as NULL')],
  ['deprecated', rule('annotation', 'documentation only')],
  ['readOnly', rule('annotation', 'documentation only')],
  ['writeOnly', rule('annotation', 'documentation only')],
]);

/** The keywords a schema's top level (the envelope's `properties` object) may carry. */
export const TOP_LEVEL_KEYWORDS: ReadonlyMap<string, KeywordRule> = new Map([
  ...ANNOTATIONS,
  ['self', rule('annotation', "Iglu's vendor/name/format/version block")],
  ['type', rule('structure', 'must be "object" when given')],
  ['properties', rule('structure', 'one column per property')],
  ['$defs', rule('structure', 'definitions that object and array properties refer to with $ref')],
  ['definitions', rule('structure', "draft 4–7's $defs")],
  ['required', rule('enforced', 'a record without one of these (or with null) is quarantined as missing_required')],
  ['additionalProperties', rule('enforced', 'false: a record with an undeclared property is quarantined as unknown_property; true or {}: undeclared properties become inferred columns; a schema is refused')],
  ['minProperties', rule('enforced', 'properties with a non-null value a record must have at least')],
  ['maxProperties', rule('enforced', 'properties with a non-null value a record may have at most')],
  ['dependentRequired', rule('enforced', 'when a property is present (non-null), the listed ones must be too')],
  ['dependencies', rule('enforced', "draft 4–7: the array form is dependentRequired; the schema form is refused")],
  ['x-order-by', rule('hint', "ClickHouse's ORDER BY (event_id is appended)")],
]);

/** Why a known top-level keyword is refused rather than enforced: what to write instead. */
const REFUSED_TOP_LEVEL: ReadonlyMap<string, string> = new Map([
  ['patternProperties', 'declare the properties by name (each is a column)'],
  ['propertyNames', 'declare the properties by name and set additionalProperties to false'],
  ['unevaluatedProperties', 'use additionalProperties'],
  ['dependentSchemas', 'use dependentRequired, or an object property with its own schema'],
  ['if', 'conditional schemas are not enforced on records'],
  ['then', 'conditional schemas are not enforced on records'],
  ['else', 'conditional schemas are not enforced on records'],
  ['allOf', 'merge the subschemas into one properties/required'],
  ['anyOf', 'alternatives are not enforced on records'],
  ['oneOf', 'alternatives are not enforced on records'],
  ['not', 'negations are not enforced on records'],
  ['$ref', 'write the properties in the document itself'],
  ['$dynamicRef', 'write the properties in the document itself'],
  ['$recursiveRef', 'write the properties in the document itself'],
  ['enum', 'a record is an object of properties; put enum on a property'],
  ['const', 'a record is an object of properties; put const on a property'],
]);

/**
 * Keywords a scalar property (string, number, integer, boolean, or a union of them) may carry besides
 * the value keywords (model.ts: NUMERIC_CONSTRAINTS, STRING_CONSTRAINTS). Keywords for objects and arrays
 * (`items`, `minItems`, …) constrain nothing on a scalar, as in JSON Schema, and are accepted.
 */
export const PROPERTY_KEYWORDS: ReadonlyMap<string, KeywordRule> = new Map([
  ...ANNOTATIONS,
  ['type', rule('structure', "the column type (a union of scalars: a string column in JSON's spelling; with object or array: JSON text)")],
  ['enum', rule('enforced', 'the values the property may take (up to MAX_ENUM_VALUES)')],
  ['const', rule('enforced', 'the one value the property may take')],
  ['x-pii', rule('hint', 'hash (stored as a salted SHA-256) or drop (never stored)')],
  ['x-low-cardinality', rule('hint', "ClickHouse's LowCardinality(String)")],
]);

/**
 * Keywords that apply subschemas to a value: on an object or array property Ajv runs them, but on a
 * scalar property Tributary checks keywords itself and runs none of these, so they are refused there.
 */
export const SCALAR_APPLICATORS: readonly string[] = ['$ref', '$dynamicRef', '$recursiveRef', 'allOf', 'anyOf', 'oneOf', 'not', 'if', 'then', 'else', 'dependentSchemas'];

/**
 * Why a top-level keyword cannot be used, or undefined when it can (its value is checked where it is
 * read). `x-` keywords other than Tributary's hints are refused too: a misspelt hint would do nothing.
 */
export function refusedTopLevelKeyword(keyword: string): string | undefined {
  if (TOP_LEVEL_KEYWORDS.has(keyword)) return undefined;
  const instead = REFUSED_TOP_LEVEL.get(keyword);
  if (instead !== undefined) return `top-level "${keyword}" is not enforced on records: ${instead}`;
  return `top-level "${keyword}" is not supported (supported: ${[...TOP_LEVEL_KEYWORDS.keys()].join(', ')})`;
}

// What loading a declared schema may cost, and what it may make each value cost. A schema past one of
// these is refused at `schema push` and when schema files load, naming the keyword, the property and the
// limit; within them, no batch (up to Lambda's 6 MB payload) outgrows the ingest function's memory
// (test/integration/schema-limits.test.ts ingests a hostile batch against a schema at every limit).
// Limits kept beside the keywords they bound: MAX_PATTERN_INSTRUCTIONS (constraints.ts), MAX_SCHEMA_NODES
// and MAX_NODES_PER_PLACE (nested-schema-cost.ts), the column limit (TRIBUTARY_MAX_COLUMNS_PER_TABLE).

/** Values in one property's `enum`: membership is a set lookup, but every container holds the list. */
export const MAX_ENUM_VALUES = 10_000;

/** Characters of one property's `enum` or `const` values, as JSON: what the registry entry and each container hold. */
export const MAX_ENUM_CHARACTERS = 256 * 1024;

/**
 * A declared document's JSON text: it is stored in every registry version and read by every container,
 * and it bounds what all its properties' keywords hold together.
 */
export const MAX_SCHEMA_CHARACTERS = 1024 * 1024;

/**
 * Schema nodes of all a document's object and array properties together, once `$ref`s are expanded. Ajv
 * compiles each schema into code when the container loads it: 0.7–2 ms per node measured, so a document
 * at this limit costs a cold start up to ~4 s and tens of MB.
 */
export const MAX_DOCUMENT_SCHEMA_NODES = 2_000;
