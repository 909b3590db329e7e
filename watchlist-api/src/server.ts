// `npm run watchlist-api`: config from the environment, listen on PORT, close gracefully on SIGTERM
// (stop accepting, finish in-flight requests, close the pool).
import { createLogger, Lifecycle, loadConfig } from '@mt/common';
import { buildApp } from './app.js';
import { configSchema } from './config.js';

const config = loadConfig(configSchema);
const log = createLogger('watchlist-api', config.LOG_LEVEL);
const lifecycle = new Lifecycle(log);
lifecycle.installSignalHandlers();

const app = await buildApp({ config, log, migrate: 'background' });
lifecycle.add('http', () => app.close());
await app.listen({ port: config.PORT, host: config.HOST });
