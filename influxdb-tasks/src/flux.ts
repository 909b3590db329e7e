// InfluxDB 2.x: the spec as Flux tasks, one per measurement and stage. Each run rewrites the last
// lookback of closed windows (like the 1.x CQs' RESAMPLE FOR), aligned to the window length so a
// window is never rewritten from a partial range. Timestamps are window starts, as in InfluxQL.
import { DATABASE, MEASUREMENTS, STAGES, lookbackOf, sourceField, stageFn, type AggFn, type MeasurementSpec, type Stage } from './spec.js';

export interface FluxTask {
  name: string;
  flux: string;
}

export const TASK_PREFIX = 'mt_downsample_';

const str = (s: string) => JSON.stringify(s);

function fluxFor(m: MeasurementSpec, stage: Stage, name: string): string {
  // One stream per (function, source field → output field); fields sharing a function and not renamed
  // are filtered together.
  const groups = new Map<string, { fn: AggFn; sources: string[]; rename?: string }>();
  for (const f of m.fields) {
    const src = sourceField(f, stage);
    const fn = stageFn(f, stage);
    const key = src === f.out ? fn : `${fn}:${src}:${f.out}`;
    const g = groups.get(key) ?? { fn, sources: [], ...(src === f.out ? {} : { rename: f.out }) };
    g.sources.push(src);
    groups.set(key, g);
  }
  const streams = [...groups.values()].map((g, i) => {
    const cond = g.sources.map((s) => `r._field == ${str(s)}`).join(' or ');
    const rename = g.rename ? `\n    |> set(key: "_field", value: ${str(g.rename)})` : '';
    return {
      id: `s${i}_${g.fn}`,
      text:
        `s${i}_${g.fn} = data\n    |> filter(fn: (r) => ${cond})\n` +
        `    |> aggregateWindow(every: ${stage.every}, fn: ${g.fn}, timeSrc: "_start", createEmpty: false)${rename}`,
    };
  });
  return [
    'import "date"',
    '',
    `option task = {name: ${str(name)}, every: ${stage.every}, offset: 30s}`,
    '',
    `stop = date.truncate(t: now(), unit: ${stage.every})`,
    `start = date.sub(d: ${lookbackOf(m, stage)}, from: stop)`,
    `data = from(bucket: ${str(`${DATABASE}/${stage.source}`)})`,
    '    |> range(start: start, stop: stop)',
    `    |> filter(fn: (r) => r._measurement == ${str(m.measurement)})`,
    '',
    ...streams.map((s) => `${s.text}\n`),
    // union() wants at least two streams
    streams.length > 1 ? `union(tables: [${streams.map((s) => s.id).join(', ')}])` : streams[0]!.id,
    `    |> to(bucket: ${str(`${DATABASE}/${stage.target}`)})`,
    '',
  ].join('\n');
}

export function fluxTasks(): FluxTask[] {
  return STAGES.flatMap((stage) =>
    MEASUREMENTS.map((m) => {
      const name = `${TASK_PREFIX}${m.measurement}_${stage.target}`;
      return { name, flux: fluxFor(m, stage, name) };
    }),
  );
}
