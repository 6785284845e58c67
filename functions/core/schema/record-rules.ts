// Rules on a whole record's properties from a declared schema's top level: minProperties, maxProperties and
// dependentRequired (draft 4–7's array `dependencies`). `required` and `additionalProperties` are the
// table's own (TableSchema.required, allowNewProperties). A property whose value is null counts as absent,
// as it does for `required`: it is stored as NULL, like one never sent.

export interface RecordRules {
  readonly minProperties?: number;
  readonly maxProperties?: number;
  /** [property, the properties it needs], by normalised name, in the document's order */
  readonly dependentRequired?: readonly (readonly [string, readonly string[]])[];
}

/** What a record breaks, given the normalised names of its properties with a non-null value, or undefined. */
export function recordRuleViolation(present: ReadonlySet<string>, rules: RecordRules): string | undefined {
  const n = present.size;
  const count = `${n} ${n === 1 ? 'property' : 'properties'}`;
  if (rules.minProperties !== undefined && n < rules.minProperties) {
    return `the record has ${count}, fewer than minProperties ${rules.minProperties} (a property whose value is null counts as absent)`;
  }
  if (rules.maxProperties !== undefined && n > rules.maxProperties) return `the record has ${count}, more than maxProperties ${rules.maxProperties}`;
  for (const [name, needs] of rules.dependentRequired ?? []) {
    if (!present.has(name)) continue;
    const missing = needs.find((d) => !present.has(d));
    if (missing !== undefined) return `property ${name} is present, so dependentRequired needs ${missing}`;
  }
  return undefined;
}
