// The bounded chaos tests' verdict, one for every scenario: no problem reported, every stage and the end clean
// in every sink, and at the end exactly the distinct valid events and every poison record in quarantine.
import assert from 'node:assert/strict';
import type { StageFigures } from './checker.js';

/** Nothing lost, duplicated or unexpected in any sink of a stage (the spool's figures too, in spool mode). */
export const stageIsClean = (s: StageFigures): boolean =>
  s.lake.lost + s.lake.duplicated + s.lake.unexpected + s.clickhouseRaw.lost + s.clickhouseRaw.duplicated + s.clickhouseRaw.unexpected
  + s.clickhouseDedup.lost + s.clickhouseDedup.duplicated + s.clickhouseDedup.unexpected + s.ingestLog.duplicated + s.ingestLog.missingBatches
  + s.quarantine.missing + s.quarantine.duplicated + s.quarantine.wrongReason
  + (s.spool ? s.spool.unaccounted + s.spool.lineage.lost + s.spool.lineage.duplicated + s.spool.lakeQuarantine.missing + s.spool.lakeQuarantine.duplicated + s.spool.offsetsWrong : 0) === 0;

export interface ChaosVerdict {
  readonly problems: readonly string[];
  readonly stages: readonly StageFigures[];
  readonly final: StageFigures;
  readonly distinctValid: number;
  readonly poison: ReadonlyMap<string, number>;
}

export function assertExactlyOnce(r: ChaosVerdict, report: string): void {
  assert.deepEqual(r.problems, [], report);
  for (const s of r.stages) assert.ok(stageIsClean(s), `stage ${s.stage}\n${report}`);
  assert.ok(stageIsClean(r.final), report);
  for (const f of [r.final.lake, r.final.clickhouseRaw, r.final.clickhouseDedup]) assert.equal(f.rows, r.distinctValid, report);
  assert.equal(r.final.quarantine.records, [...r.poison.values()].reduce((a, b) => a + b, 0), report);
}
