// `npm run -w @mt/grafana generate`: writes grafana/dashboards/<uid>.json from the dashboard modules.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DASHBOARDS, render } from './dashboards.js';

const out = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dashboards');
for (const [file, build] of Object.entries(DASHBOARDS)) {
  writeFileSync(path.join(out, `${file}.json`), render(build()));
  process.stdout.write(`wrote dashboards/${file}.json\n`);
}
