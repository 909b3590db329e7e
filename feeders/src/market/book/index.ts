export { OrderBook, topOfBook, type BookMeta, type BookOptions, type ChecksumFn, type Level, type Side } from './book.js';
