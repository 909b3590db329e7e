// The point builders live in the storage-schema module (common/src/schema/markets.ts, docs/INFLUXDB.md
// "Layout of database markets"); this re-export keeps `./points.js` imports of in-flight branches working.
export {
  alertEventPoint,
  candlePoint,
  fearGreedPoint,
  fundingPoint,
  indicatorPoint,
  liquidationPoint,
  MARKET_SESSION,
  marketDataPoint,
  openInterestPoint,
  orderBookPoint,
  type AlertEvent,
} from '@mt/common';
