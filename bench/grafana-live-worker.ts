// The Grafana Live push fake on a thread of its own for bench/live.ts: the replay server in the main
// thread sends up to ~50 000 frames/s in a burst, and a push received on that busy event loop would be
// stamped late — the bench would measure its own lag. Here the fake's event loop only receives pushes.
// Messages: {cmd: 'collect', since} → {latency: ms per ticker row whose time ≥ since, frameAt: that row's time (the
// frame's send time), perSec: [second, pushes, lines][]}.
import { parentPort, workerData } from 'node:worker_threads';
import { GrafanaLiveFake } from '@mt/testing';

const grafana = await new GrafanaLiveFake({ tokens: [(workerData as { token: string }).token] }).listen();
parentPort!.postMessage({ url: grafana.url });
let fromPub = 0;
let fromPush = 0;
parentPort!.on('message', async (m: { cmd: 'collect'; since: number } | { cmd: 'close' }) => {
  if (m.cmd === 'close') {
    await grafana.close();
    parentPort!.close();
    return;
  }
  const latency: number[] = [];
  const frameAt: number[] = [];
  for (const p of grafana.publications.slice(fromPub)) {
    if (!p.channel.endsWith('/ticker')) continue;
    for (const t of p.frame.fields[1]!.values as number[]) {
      if (t < m.since) continue;
      latency.push(p.at - t);
      frameAt.push(t);
    }
  }
  const perSec = new Map<number, [number, number, number]>();
  for (const p of grafana.pushes.slice(fromPush)) {
    const s = Math.floor(p.at / 1000);
    const e = perSec.get(s) ?? [s, 0, 0];
    e[1]++;
    e[2] += p.lines;
    perSec.set(s, e);
  }
  fromPub = grafana.publications.length;
  fromPush = grafana.pushes.length;
  // what was collected is not needed again: keep the thread's memory flat across runs
  grafana.publications.length = 0;
  grafana.pushes.length = 0;
  grafana.requests.length = 0;
  fromPub = fromPush = 0;
  parentPort!.postMessage({ latency, frameAt, perSec: [...perSec.values()] });
});
