// InfluxDB 1.x: the spec as continuous queries. RESAMPLE … FOR <lookback> makes every run recompute the
// recent closed windows, so points written late (backfill after a reconnect) still reach the rollups.
import { influxQLIdent as q } from '@mt/common';
import { DATABASE, MEASUREMENTS, STAGES, lookbackOf, sourceField, stageFn, type MeasurementSpec, type Stage } from './spec.js';

export interface ContinuousQuery {
  name: string;
  /** `CREATE CONTINUOUS QUERY … BEGIN <select> END` */
  create: string;
  drop: string;
}

/** Every CQ we own starts with this, so the installer can drop ones the spec no longer has. */
export const CQ_PREFIX = 'mt_downsample_';

export function selectInto(m: MeasurementSpec, stage: Stage): string {
  const cols = m.fields.map((f) => `${stageFn(f, stage)}(${q(sourceField(f, stage))}) AS ${q(f.out)}`).join(', ');
  return (
    `SELECT ${cols} INTO ${q(DATABASE)}.${q(stage.target)}.${q(m.measurement)} ` +
    `FROM ${q(DATABASE)}.${q(stage.source)}.${q(m.measurement)} GROUP BY time(${stage.every}), *`
  );
}

export function continuousQueries(): ContinuousQuery[] {
  return STAGES.flatMap((stage) =>
    MEASUREMENTS.map((m) => {
      const name = `${CQ_PREFIX}${m.measurement}_${stage.target}`;
      return {
        name,
        create:
          `CREATE CONTINUOUS QUERY ${q(name)} ON ${q(DATABASE)} RESAMPLE EVERY ${stage.every} FOR ${lookbackOf(m, stage)} ` +
          `BEGIN ${selectInto(m, stage)} END`,
        drop: `DROP CONTINUOUS QUERY ${q(name)} ON ${q(DATABASE)}`,
      };
    }),
  );
}

/**
 * The SELECT … INTO of a CQ's text restricted to [fromMs, toMs): what InfluxDB runs for those windows.
 * Used to backfill the rollups for history written before the CQs existed, and by the tests to run
 * exactly the installed CQ text.
 */
export function cqStatementFor(create: string, fromMs: number, toMs: number): string {
  const m = /\bBEGIN\s+(SELECT .+) (GROUP BY .+)\s+END\s*$/s.exec(create);
  if (!m) throw new Error(`not a continuous query: ${create}`);
  return `${m[1]} WHERE time >= ${fromMs}ms AND time < ${toMs}ms ${m[2]}`;
}
