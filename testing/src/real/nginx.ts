// A real nginx (Debian's) on loopback running the project's own nginx/ config: nginx.conf as the main
// file and templates/terminal.conf.template rendered the way the official image's envsubst does.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, spawnTracked, tmpDir, waitFor, which, type Tracked } from './proc.js';
import net from 'node:net';

const NGINX_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'nginx');

/** envsubst semantics of the nginx image: `${NAME}` replaced only for names given. */
export function renderTemplate(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\{([A-Z_][A-Z0-9_]*)\}/g, (m, name: string) => vars[name] ?? m);
}

export interface NginxServer {
  httpPort: number;
  httpsPort: number;
  dir: string;
  cert: string;
  stop(): Promise<void>;
}

/** Generate the self-signed certificate with the image's own first-start script. */
export function selfSignedCert(dir: string, serverName = 'localhost'): { cert: string; key: string } {
  const cert = path.join(dir, 'certs', 'fullchain.pem');
  const key = path.join(dir, 'certs', 'privkey.pem');
  execFileSync('sh', [path.join(NGINX_DIR, 'docker-entrypoint.d', '40-self-signed-cert.sh')], {
    env: { ...process.env, TLS_CERT: cert, TLS_KEY: key, SERVER_NAME: serverName },
  });
  return { cert, key };
}

export interface NginxOptions {
  /** `host:port` of Grafana and of the watchlist API: an address, or a name the resolver answers. */
  grafanaUpstream: string;
  apiUpstream: string;
  serverName?: string;
  /** DNS server for upstream names (`address[:port]`); the image uses Docker's 127.0.0.11. */
  resolver?: string;
  /** The HTTPS port clients see (redirects name it unless 443); default: the port nginx listens on. */
  publicHttpsPort?: number;
}

export async function startNginx(opts: NginxOptions): Promise<NginxServer> {
  const bin = which('nginx');
  const dir = tmpDir('nginx');
  const httpPort = await freePort();
  const httpsPort = await freePort();
  const { cert, key } = selfSignedCert(dir, opts.serverName);
  const site = renderTemplate(readFileSync(path.join(NGINX_DIR, 'templates', 'terminal.conf.template'), 'utf8'), {
    SERVER_NAME: opts.serverName ?? 'localhost',
    HTTP_PORT: `127.0.0.1:${httpPort}`,
    HTTPS_PORT: `127.0.0.1:${httpsPort}`,
    TLS_CERT: cert,
    TLS_KEY: key,
    GRAFANA_UPSTREAM: opts.grafanaUpstream,
    API_UPSTREAM: opts.apiUpstream,
    RESOLVER: opts.resolver ?? '127.0.0.1',
    PUBLIC_HTTPS_PORT: String(opts.publicHttpsPort ?? httpsPort),
  });
  const sitePath = path.join(dir, 'terminal.conf');
  writeFileSync(sitePath, site);
  // The project's main file, with the container's absolute paths pointed into this temp dir.
  const main = readFileSync(path.join(NGINX_DIR, 'nginx.conf'), 'utf8')
    .replace('pid /var/run/nginx.pid;', `pid ${dir}/nginx.pid;`)
    .replace('include /etc/nginx/conf.d/*.conf;', `include ${sitePath};`)
    .replace('worker_processes auto;', 'worker_processes 1;')
    // our stdio are sockets, which nginx cannot open() as /dev/stdout
    .replace('access_log /dev/stdout json;', `access_log ${dir}/access.log json;`);
  const conf = path.join(dir, 'nginx.conf');
  writeFileSync(conf, main);
  execFileSync(bin, ['-t', '-q', '-p', dir, '-c', conf, '-e', path.join(dir, 'error.log')], { stdio: 'pipe' });
  const proc: Tracked = spawnTracked(bin, ['-p', dir, '-c', conf, '-e', path.join(dir, 'error.log'), '-g', 'daemon off;'], {
    logFile: path.join(dir, 'nginx.out.log'),
  });
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const s = net.connect(httpsPort, '127.0.0.1', () => {
          s.destroy();
          resolve(true);
        });
        s.on('error', () => resolve(false));
      }),
    15_000,
    'nginx listening',
  );
  return { httpPort, httpsPort, dir, cert, stop: () => proc.stop() };
}
