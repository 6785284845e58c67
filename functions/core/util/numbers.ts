// Number helpers with no domain, light on purpose: schema inference and the catalog's table shapes use them,
// and importing the coercion rules (with their JSON Schema and regex engines) for one of them would load
// those engines into every command that only reads the catalog (`tributary sql`).

/** An integer that a double holds only rounded: beyond 2^53, within int64. */
export const isRoundedInteger = (v: number): boolean => Number.isInteger(v) && !Number.isSafeInteger(v) && Math.abs(v) < 2 ** 63;
