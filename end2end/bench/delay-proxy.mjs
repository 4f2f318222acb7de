// A provider far away, on loopback (make bench): an HTTP proxy in front of a test provider
// that holds each of the servers' requests DELAY_MS before passing it on, and the answer
// DELAY_MS before passing it back, as a provider some tens of milliseconds off would.
// The browser's requests (the authorization page, the login form, the provider's logout)
// pass at once: only what a relying party's server waits on is far.
//
//   node bench/delay-proxy.mjs
//
// Environment:
//   DELAY_PORT     port to listen on (127.0.0.1)
//   DELAY_TARGET   the provider, e.g. http://127.0.0.1:9091 (started with OIDC_PUBLIC_URL set
//                  to this proxy's address, so that its issuer and every endpoint its
//                  discovery document names are the proxy's: the Host header is kept)
//   DELAY_MS       added each way, default 40
//
// GET /__delay/health answers at once, for Playwright's start-up check. GET /__delay/times
// lists every delayed request in order: { request: "POST /token", held, provider } (ms), the
// time this proxy held it (the delay both ways, as it really came out) and the provider's own
// time to answer, so a bench can tell them apart from the relying party's own time.
import http from 'node:http';

const PORT = Number.parseInt(process.env.DELAY_PORT || '', 10);
const TARGET = new URL(process.env.DELAY_TARGET || 'http://127.0.0.1:9090');
const DELAY_MS = Number.parseInt(process.env.DELAY_MS || '40', 10);

/** oidc-provider's endpoints that servers call: discovery, keys, token (and revocation,
 * introspection beneath it), userinfo. */
const SERVER_SIDE = /^\/(\.well-known\/|jwks$|token(\/|$)|me$)/;

const upstream = new http.Agent({ keepAlive: true });
const times = [];

/** Waits until `performance.now()` reaches `until`. A timer alone fires a millisecond or two
 * late, which would make the provider farther than DELAY_MS (84 ms a round trip, measured,
 * for 80), so the last stretch is polled between other events. */
async function holdUntil(until) {
  const early = until - performance.now() - 2;
  if (early > 0) await new Promise((resolve) => setTimeout(resolve, early));
  while (performance.now() < until) await new Promise((resolve) => setImmediate(resolve));
}

function readAll(stream) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    stream.on('data', (chunk) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

const server = http.createServer(async (req, res) => {
  try {
    const { pathname } = new URL(req.url, 'http://proxy');
    if (pathname === '/__delay/health') {
      res.end('ok');
      return;
    }
    if (pathname === '/__delay/times') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(times));
      return;
    }
    const delay = SERVER_SIDE.test(pathname) ? DELAY_MS : 0;
    // On the wire from the moment it arrives here, as the answer from the moment it is whole.
    const sent = performance.now();
    const body = await readAll(req);
    if (delay) await holdUntil(sent + delay);
    const forwarded = performance.now();
    const answer = await new Promise((resolve, reject) => {
      const forward = http.request(
        {
          host: TARGET.hostname,
          port: TARGET.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
          agent: upstream,
        },
        resolve,
      );
      forward.on('error', reject);
      forward.end(body);
    });
    const answerBody = await readAll(answer);
    const answered = performance.now();
    if (delay) await holdUntil(answered + delay);
    const headers = { ...answer.headers };
    delete headers['transfer-encoding'];
    headers['content-length'] = String(answerBody.length);
    res.writeHead(answer.statusCode ?? 502, headers);
    res.end(answerBody);
    if (delay) {
      const provider = answered - forwarded;
      times.push({ request: `${req.method} ${pathname}`, held: performance.now() - sent - provider, provider });
    }
  } catch (error) {
    console.error(`delay-proxy: ${req.method} ${req.url}: ${error?.message || error}`);
    if (!res.headersSent) res.writeHead(502);
    res.end();
  }
});

server.listen(PORT, '127.0.0.1', () => {
  console.log(`delay-proxy on 127.0.0.1:${PORT} -> ${TARGET.origin}, ${DELAY_MS} ms each way for servers`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close();
    process.exit(0);
  });
}
