// Preloaded into a child process (NODE_OPTIONS=--import) by a bench's --cpu-prof option: Node 20 does not
// allow --cpu-prof in NODE_OPTIONS, so the V8 profiler is started here through the inspector and the
// .cpuprofile is written to $CPU_PROF_DIR at exit (the services exit through process.exit on SIGTERM).
import { Session } from 'node:inspector';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const dir = process.env.CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  // the main thread's session answers synchronously: the profile can be taken in an 'exit' handler
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: Number(process.env.CPU_PROF_INTERVAL_US ?? 1000) });
  session.post('Profiler.start');
  process.on('exit', () => {
    session.post('Profiler.stop', (err, res) => {
      if (err) return;
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, `${process.pid}.cpuprofile`), JSON.stringify(res.profile));
    });
  });
}
