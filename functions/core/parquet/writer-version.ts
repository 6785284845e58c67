// The footer's `created_by`, in the form parquet-mr parses ("<app> version <semver>"): Spark and Hive
// ignore a writer's string statistics when they cannot parse its name (PARQUET-251's guard).
import pkg from '../../../package.json' with { type: 'json' };

export const CREATED_BY = `tributary version ${pkg.version}`;
