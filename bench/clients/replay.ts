// A replay server in a process of its own (bench/rules-ingest.ts: one per feeder running side by side, so
// a flood is not limited by one replay thread serving two feeders). argv = symbol count, walk (see
// ReplayOptions). Sends { wsUrl, restUrl, prices } once listening, then answers IPC 'sample' with stats().
import { ReplayServer, benchSymbols } from '../replay.js';
import { serveSamples } from './common.js';

const [n, walk] = [Number(process.argv[2]), Number(process.argv[3])];
const replay = await new ReplayServer({ rate: 0, walk }).listen();
const prices = Object.fromEntries(benchSymbols(n).map((s) => [s, replay.priceOf(s)]));
process.send?.({ ready: true, wsUrl: replay.wsUrl, restUrl: replay.restUrl, prices });
serveSamples(() => replay.stats());
