// The Grafana Live push fake on a thread of its own for bench/live.ts: the replay server in the main
// thread sends up to ~50 000 frames/s in a burst, and a push received on that busy event loop would be
// stamped late — the bench would measure its own lag. Here the fake's event loop only receives pushes.
// Messages: {cmd: 'collect', since} → {latency: ms per ticker row whose time ≥ since, frameAt: that row's time (the
// frame's send time), perSec: [second, pushes, lines][], at: when each row's push arrived, sym: its symbol as
// the replay names it (`BTCUSDT`), price, bid: its values (bench/live.ts --probe looks up their frames' send times)}.
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
  const at: number[] = [];
  const sym: string[] = [];
  const price: number[] = [];
  const bid: number[] = [];
  for (const p of grafana.publications.slice(fromPub)) {
    if (!p.channel.endsWith('/ticker')) continue;
    const field = (name: string) => p.frame.fields.find((f) => f.name === name)?.values ?? [];
    const [labels, prices, bids] = [field('labels') as string[], field('price') as number[], field('bid') as number[]];
    (p.frame.fields[1]!.values as number[]).forEach((t, i) => {
      if (t < m.since) return;
      latency.push(p.at - t);
      frameAt.push(t);
      at.push(p.at);
      sym.push((/symbol=([^,]+)/.exec(labels[i] ?? '')?.[1] ?? '').replace('/', ''));
      price.push(prices[i]!);
      bid.push(bids[i]!);
    });
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
  parentPort!.postMessage({ latency, frameAt, perSec: [...perSec.values()], at, sym, price, bid });
});
