// One HTTP helper for every polled and REST source (docs/SOURCES.md, "One HTTP helper").
export { HTTP_DEFAULTS, MAX_BODY_BYTES, type RequestOptions } from './options.js';
export { HttpResponse, httpGet, expectJson, statusError } from './send.js';
export { RetryPolicy, retryAfterOf, type RetryDecision } from './retry.js';
export { RestClient, type RestClientOptions, type VenueRestOptions } from './rest-client.js';
