// A real OpenID Provider (panva/oidc-provider v9) for the end-to-end tests.
//
//   node oidc/provider.mjs
//
// Environment:
//   OIDC_PORT                      port to listen on (127.0.0.1), default 9090
//   OIDC_PUBLIC_URL                where everyone reaches it, when a proxy stands in
//                                  front (make bench's delaying proxy): its issuer,
//                                  default http://127.0.0.1:OIDC_PORT. The proxy keeps
//                                  the Host header, from which the endpoints are named.
//   OIDC_REDIRECT_URIS             comma-separated redirect URIs of the client,
//                                  default http://127.0.0.1:3000/oauth2callback
//   OIDC_POST_LOGOUT_REDIRECT_URIS comma-separated post-logout redirect URIs,
//                                  default http://127.0.0.1:3000/
//   OIDC_ALWAYS_LOGIN              "1": every authorization request shows the
//                                  login page, even with a live provider session
//   OIDC_ADMIN                     "1": POST /__admin/rotate-key "restarts" the
//                                  provider with a new signing key under the same
//                                  kid, as one keeping its keys in memory does;
//                                  answers the new public key (the end-to-end
//                                  tests' key-rotation.spec.ts); and the
//                                  inspection endpoints of tokens.spec.ts (below)
//   OIDC_TOKENS_REDIRECT_URIS      the second client's (leptos-tokens) redirect URIs,
//                                  default http://127.0.0.1:3001/oauth2callback
//   OIDC_TOKENS_POST_LOGOUT_REDIRECT_URIS  its post-logout redirect URIs,
//                                  default http://127.0.0.1:3001/
//   OIDC_TOKENS_BACKCHANNEL_LOGOUT_URI     its back-channel logout URI, default
//                                  http://127.0.0.1:3001/oauth2/backchannel-logout
//   OIDC_TOKENS_ACCESS_TTL         its access tokens' lifetime in seconds, default 20
//
// Two confidential clients (client_secret_basic), authorization code flow with PKCE
// S256 required, RS256 ID tokens (and three more for client-auth.spec.ts, below):
// - leptos-app / leptos-app-secret: the code grant only (every spec but tokens.spec.ts);
// - leptos-tokens / leptos-tokens-secret (tokens.spec.ts): refresh tokens too, with
//   offline_access (which oidc-provider keeps only beside prompt=consent), rotated on
//   every use; access tokens live OIDC_TOKENS_ACCESS_TTL seconds; back-channel logout
//   with sid ("session required"). Its grants outlive a logout at the provider (as
//   offline_access grants do), so a refresh token is gone only if the app revoked it.
// Revocation (RFC 7009), RP-initiated and back-channel logout are on.
// For client-auth.spec.ts, on the tokens client's redirect URIs (the same server, one named
// provider each), with its refresh tokens, and access tokens living CLIENT_AUTH_ACCESS_TTL
// seconds so that a refresh comes at once:
// - leptos-post / leptos-post-secret: client_secret_post;
// - leptos-jwt: private_key_jwt, with the public halves of oidc/client-keys/rsa.pem and
//   ec.pem (test-only keys) as its JWKS;
// - leptos-public: none, a public client (PKCE alone protects its codes).
// For par.spec.ts, on the same redirect URIs:
// - leptos-par / leptos-par-secret: client_secret_basic, and pushed authorization requests
//   (RFC 9126) required for this client only (require_pushed_authorization_requests): its
//   authorization endpoint refuses a login that was not pushed to /request first. The
//   provider's pushedAuthorizationRequests feature is on (oidc-provider's default), so
//   discovery names the endpoint without requiring it of every client.
// For dpop.spec.ts, on the same redirect URIs:
// - leptos-dpop / leptos-dpop-secret: client_secret_basic, and DPoP-bound access tokens
//   required (dpop_bound_access_tokens): a token request without a DPoP proof is refused;
//   access tokens live CLIENT_AUTH_ACCESS_TTL seconds, so that a refresh comes at once.
//   The dPoP feature (oidc-provider's default, said here) asks this client's proofs for the
//   provider's nonce (requireNonce), so the app's first token request meets
//   use_dpop_nonce and must retry with the DPoP-Nonce it was given; other clients send no
//   proofs and see nothing of it.
//
// With OIDC_ADMIN=1, for tokens.spec.ts:
//   POST /__admin/groups?login=L&groups=a,b   gives L those groups (claim `groups`,
//                                scope profile) in the tokens and userinfo issued from now on.
//   GET /__admin/issued-tokens   every token the token endpoint issued, in order:
//                                { tokens: [{ seq, at, clientId, grantType, kind
//                                ("access" | "refresh" | "id"), value, expiresAt,
//                                tokenType ("Bearer" | "DPoP", access tokens) }],
//                                refreshGrants: { clientId: count }, revocations: n,
//                                backchannel: [{ clientId, accountId, sid, ok }],
//                                requests: { "METHOD /path": count } }
//   GET /__admin/token?value=V   { access, refresh }: whether the provider still
//                                holds V as an access / refresh token (false once
//                                revoked or expired; a used-up rotated refresh
//                                token counts as held, with consumed: true), and
//                                jkt: the thumbprint of the DPoP key an access token
//                                is bound to (cnf.jkt), or null
//   GET /__admin/session?id=ID   { found }: whether the provider session whose
//                                cookie (e2e_op_session) is ID still exists
// Any login name is accepted (the password is ignored); alice and bob have fixed
// profiles; big-N has a name N characters long. Consent is granted automatically,
// so the only page is the login form.
// Every page is self-contained: nothing is loaded from outside.

import http from 'node:http';
import { createHash, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

// oidc-provider warns about Node < 22 on import; it works on Node 20 all the same.
const { default: Provider, interactionPolicy } = await import('oidc-provider');

const PORT = Number.parseInt(process.env.OIDC_PORT || '9090', 10);
const HOST = '127.0.0.1';
const ISSUER = (process.env.OIDC_PUBLIC_URL || `http://${HOST}:${PORT}`).replace(/\/+$/, '');
const CLIENT_ID = 'leptos-app';
const CLIENT_SECRET = 'leptos-app-secret';
const TOKENS_CLIENT_ID = 'leptos-tokens';
const TOKENS_CLIENT_SECRET = 'leptos-tokens-secret';

const listFromEnv = (name, fallback) => (process.env[name] || fallback)
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);

const REDIRECT_URIS = listFromEnv('OIDC_REDIRECT_URIS', 'http://127.0.0.1:3000/oauth2callback');
const POST_LOGOUT_REDIRECT_URIS = listFromEnv('OIDC_POST_LOGOUT_REDIRECT_URIS', 'http://127.0.0.1:3000/');
const TOKENS_REDIRECT_URIS = listFromEnv('OIDC_TOKENS_REDIRECT_URIS', 'http://127.0.0.1:3001/oauth2callback');
const TOKENS_POST_LOGOUT_REDIRECT_URIS = listFromEnv('OIDC_TOKENS_POST_LOGOUT_REDIRECT_URIS', 'http://127.0.0.1:3001/');
const TOKENS_BACKCHANNEL_LOGOUT_URI = process.env.OIDC_TOKENS_BACKCHANNEL_LOGOUT_URI
  || 'http://127.0.0.1:3001/oauth2/backchannel-logout';
const TOKENS_ACCESS_TTL = Number.parseInt(process.env.OIDC_TOKENS_ACCESS_TTL || '20', 10);
const CLIENT_AUTH_CLIENTS = ['leptos-post', 'leptos-jwt', 'leptos-public'];
const CLIENT_AUTH_ACCESS_TTL = 4;
/** dpop.spec.ts's client: DPoP-bound access tokens, proofs with the provider's nonce. */
const DPOP_CLIENT_ID = 'leptos-dpop';
const ALWAYS_LOGIN = process.env.OIDC_ALWAYS_LOGIN === '1';
const ADMIN = process.env.OIDC_ADMIN === '1';

// ---------------------------------------------------------------- accounts

const KNOWN_USERS = {
  alice: {
    name: 'Alice Example',
    given_name: 'Alice',
    family_name: 'Example',
    email: 'alice@example.com',
    email_verified: true,
    picture: `${ISSUER}/avatars/alice.svg`,
  },
  bob: {
    name: 'Bob Builder',
    given_name: 'Bob',
    family_name: 'Builder',
    email: 'bob@example.com',
    email_verified: true,
  },
};

const normalizeLogin = (login) => String(login ?? '').trim().toLowerCase();

function profileFor(login) {
  if (KNOWN_USERS[login]) return KNOWN_USERS[login];
  // `big-N`: a name N characters long, for the largest claim sets an app may meet.
  const big = /^big-(\d{1,5})$/.exec(login);
  if (big) {
    return { name: 'B'.repeat(Number(big[1])), email: `${login}@example.com`, email_verified: true };
  }
  const name = login.charAt(0).toUpperCase() + login.slice(1);
  return {
    name,
    given_name: name,
    email: `${login}@example.com`,
    email_verified: true,
  };
}

/** Groups given at the provider since it started (POST /__admin/groups), by login. */
const groupsOf = {};

async function findAccount(_ctx, sub) {
  const login = normalizeLogin(sub);
  if (!login) return undefined;
  const profile = profileFor(login);
  return {
    accountId: login,
    async claims() {
      const groups = groupsOf[login] ? { groups: groupsOf[login] } : {};
      return { sub: login, preferred_username: login, ...profile, ...groups };
    },
  };
}

// ---------------------------------------------------------------- pages

const esc = (value) => String(value ?? '').replace(/[&<>"']/g, (c) => ({
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
}[c]));

const STYLE = `body{font-family:system-ui,sans-serif;margin:40px auto;max-width:320px;color:#222}
h1{font-size:1.4em;font-weight:400;text-align:center}
label{display:block;margin:12px 0 4px;color:#555}
input{width:100%;box-sizing:border-box;height:36px;padding:0 8px;font-size:15px}
button{margin-top:16px;width:100%;height:36px;font-size:15px;cursor:pointer}
p{color:#555}.error{color:#b00}a{color:#555}pre{white-space:pre-wrap}`;

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title><style>${STYLE}</style></head>
<body>${body}</body>
</html>`;
}

/** The classes of sign-in (acr) this provider knows: a password, or a password and a code. */
const ACR_PASSWORD = 'urn:e2e:pwd';
const ACR_SECOND_FACTOR = 'urn:e2e:mfa';

function loginPage({ uid, clientName, loginHint, error, secondFactor }) {
  return page('Sign in - Test OpenID Provider', `
<h1>Sign in to the test provider</h1>
<p>Continue to <strong>${esc(clientName)}</strong>.</p>
${error ? `<p class="error" role="alert">${esc(error)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}/login" autocomplete="off">
  <label for="login">Username</label>
  <input id="login" name="login" type="text" required autofocus value="${esc(loginHint)}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password">
${secondFactor ? `  <label for="code">One-time code (any digits; leave it empty to sign in with the password alone)</label>
  <input id="code" name="code" type="text" inputmode="numeric">
` : ''}  <button id="submit" type="submit">Sign in</button>
</form>
<p><a id="cancel" href="/interaction/${esc(uid)}/abort">Cancel</a></p>`);
}

const AVATAR_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">
<rect width="64" height="64" rx="32" fill="#7b61ff"/>
<text x="32" y="42" font-size="30" text-anchor="middle" fill="#fff" font-family="sans-serif">A</text></svg>`;

// ---------------------------------------------------------------- provider

const KID = 'e2e-rs256';

function newSigningKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: KID, alg: 'RS256', use: 'sig' };
}

/**
 * The public half of a test-only client key (oidc/client-keys/), as a client's JWKS has it:
 * its kid is its RFC 7638 thumbprint, which the app sends unless configured otherwise.
 */
function clientPublicKey(file) {
  const pem = readFileSync(new URL(`client-keys/${file}`, import.meta.url));
  const jwk = createPublicKey(pem).export({ format: 'jwk' });
  const members = jwk.kty === 'RSA' ? ['e', 'kty', 'n'] : ['crv', 'kty', 'x', 'y'];
  const canonical = JSON.stringify(Object.fromEntries(members.map((name) => [name, jwk[name]])));
  return { ...jwk, kid: createHash('sha256').update(canonical).digest('base64url') };
}

/**
 * The clients of client-auth.spec.ts, one per client authentication method, and par.spec.ts's
 * client that must push its logins.
 */
function clientAuthClients() {
  const common = {
    redirect_uris: TOKENS_REDIRECT_URIS,
    post_logout_redirect_uris: TOKENS_POST_LOGOUT_REDIRECT_URIS,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    id_token_signed_response_alg: 'RS256',
  };
  return [{
    ...common,
    client_id: 'leptos-post',
    client_secret: 'leptos-post-secret',
    client_name: 'Leptos app, client_secret_post (e2e)',
    token_endpoint_auth_method: 'client_secret_post',
  }, {
    ...common,
    client_id: 'leptos-jwt',
    client_name: 'Leptos app, private_key_jwt (e2e)',
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: { keys: [clientPublicKey('rsa.pem'), clientPublicKey('ec.pem')] },
  }, {
    ...common,
    client_id: 'leptos-public',
    client_name: 'Leptos app, public client (e2e)',
    token_endpoint_auth_method: 'none',
  }, {
    ...common,
    client_id: 'leptos-par',
    client_secret: 'leptos-par-secret',
    client_name: 'Leptos app, pushed authorization requests (e2e)',
    token_endpoint_auth_method: 'client_secret_basic',
    require_pushed_authorization_requests: true,
  }, {
    ...common,
    client_id: DPOP_CLIENT_ID,
    client_secret: 'leptos-dpop-secret',
    client_name: 'Leptos app, DPoP-bound tokens (e2e)',
    token_endpoint_auth_method: 'client_secret_basic',
    dpop_bound_access_tokens: true,
  }];
}

const policy = interactionPolicy.base();
if (ALWAYS_LOGIN) {
  policy.get('login').checks.add(new interactionPolicy.Check(
    'e2e_always_login',
    'End-User authentication is required on every request (OIDC_ALWAYS_LOGIN)',
    (ctx) => (ctx.oidc.result?.login
      ? interactionPolicy.Check.NO_NEED_TO_PROMPT
      : interactionPolicy.Check.REQUEST_PROMPT),
  ));
}

// A login asking for a class of sign-in (acr_values) that the visitor's session at the provider
// does not have signs in again, as real providers step up to a second factor.
policy.get('login').checks.add(new interactionPolicy.Check(
  'e2e_acr_step_up',
  'A stronger sign-in is asked for than the session has',
  (ctx) => {
    const asked = String(ctx.oidc.params.acr_values ?? '').split(' ').filter(Boolean);
    if (!asked.length || ctx.oidc.result?.login) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
    return asked.includes(ctx.oidc.session?.acr)
      ? interactionPolicy.Check.NO_NEED_TO_PROMPT
      : interactionPolicy.Check.REQUEST_PROMPT;
  },
));

const configuration = {
  acrValues: [ACR_PASSWORD, ACR_SECOND_FACTOR],
  clients: [{
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    client_name: 'Leptos app (e2e)',
    token_endpoint_auth_method: 'client_secret_basic',
    redirect_uris: REDIRECT_URIS,
    post_logout_redirect_uris: POST_LOGOUT_REDIRECT_URIS,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    id_token_signed_response_alg: 'RS256',
  }, {
    client_id: TOKENS_CLIENT_ID,
    client_secret: TOKENS_CLIENT_SECRET,
    client_name: 'Leptos app with tokens (e2e)',
    token_endpoint_auth_method: 'client_secret_basic',
    redirect_uris: TOKENS_REDIRECT_URIS,
    post_logout_redirect_uris: TOKENS_POST_LOGOUT_REDIRECT_URIS,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    id_token_signed_response_alg: 'RS256',
    backchannel_logout_uri: TOKENS_BACKCHANNEL_LOGOUT_URI,
    backchannel_logout_session_required: true,
  }, ...clientAuthClients()],
  jwks: { keys: [newSigningKey()] },
  cookies: {
    keys: ['leptos-e2e-cookie-key-not-a-secret'],
    // The RP runs on the same host (cookies ignore the port): keep names distinct.
    names: {
      session: 'e2e_op_session',
      interaction: 'e2e_op_interaction',
      resume: 'e2e_op_interaction_resume',
      state: 'e2e_op_state',
    },
  },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username', 'picture', 'groups'],
  },
  conformIdTokenClaims: false,
  findAccount,
  pkce: { required: () => true },
  // The back-channel logout POSTs go to the test apps on 127.0.0.1, which oidc-provider's
  // protection against server-side request forgery refuses (special-use addresses): let
  // loopback through, only it.
  fetch(url, options) {
    const { hostname } = new URL(url);
    if (hostname === '127.0.0.1' || hostname === 'localhost') delete options.dispatcher;
    return globalThis.fetch(url, options);
  },
  ttl: {
    // Short for the tokens client, so that a test sees a refresh; oidc-provider's hour else.
    AccessToken: (_ctx, token, client) => {
      if (client?.clientId === TOKENS_CLIENT_ID) return TOKENS_ACCESS_TTL;
      if (CLIENT_AUTH_CLIENTS.includes(client?.clientId)) return CLIENT_AUTH_ACCESS_TTL;
      // dpop.spec.ts waits out one to see a refresh prove the same key.
      if (client?.clientId === DPOP_CLIENT_ID) return CLIENT_AUTH_ACCESS_TTL;
      return 60 * 60;
    },
  },
  // Only the tokens client gets refresh tokens (offline_access, its grant type allows them):
  // a new one on every refresh, so that spending one twice would show (oidc-provider then
  // revokes the whole grant).
  rotateRefreshToken: true,
  features: {
    devInteractions: { enabled: false },
    // Said although it is oidc-provider's default: par.spec.ts's client needs it. Not
    // required of every client (discovery then says require_pushed_authorization_requests).
    pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: false },
    backchannelLogout: { enabled: true },
    // On by default in oidc-provider 9; said for dpop.spec.ts. Nonces need a secret (a new
    // one each start: a nonce outliving the provider is refused, and the app asks again).
    dPoP: {
      enabled: true,
      nonceSecret: randomBytes(32),
      requireNonce: (ctx) => ctx.oidc?.client?.clientId === DPOP_CLIENT_ID,
    },
    revocation: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      // Sign out without a confirmation click (the form is submitted by script;
      // the button remains as a fallback).
      async logoutSource(ctx, form) {
        ctx.type = 'html';
        ctx.body = page('Sign out - Test OpenID Provider', `
<h1>Signing out…</h1>
${form}
<button id="logout" type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<script>var f=document.getElementById('op.logoutForm');var i=document.createElement('input');i.type='hidden';i.name='logout';i.value='yes';f.appendChild(i);f.submit();</script>`);
      },
      async postLogoutSuccessSource(ctx) {
        ctx.type = 'html';
        ctx.body = page('Signed out - Test OpenID Provider', '<h1>Signed out</h1><p>You have been signed out of the test provider.</p>');
      },
    },
  },
  interactions: {
    policy,
    url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
  },
  // Consent is implied for our client: give the grant everything it asks for.
  async loadExistingGrant(ctx) {
    const { oidc } = ctx;
    const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId);
    let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
    if (!grant) {
      grant = new oidc.provider.Grant({ clientId: oidc.client.clientId, accountId: oidc.session.accountId });
    }
    grant.addOIDCScope([...oidc.requestParamOIDCScopes].join(' '));
    const claims = [...oidc.requestParamClaims];
    if (claims.length) grant.addOIDCClaims(claims);
    await grant.save();
    return grant;
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Error - Test OpenID Provider', `<h1>Something went wrong</h1>
${Object.entries(out).map(([k, v]) => `<pre><strong>${esc(k)}</strong>: ${esc(v)}</pre>`).join('')}`);
  },
};

// What the token endpoint issued, and what became of it (OIDC_ADMIN's inspection endpoints).
const issued = [];
const refreshGrants = {};
const backchannel = [];
const requests = {};

function recordGrant(ctx) {
  const body = ctx.body || {};
  const clientId = ctx.oidc.client?.clientId;
  const grantType = ctx.oidc.params?.grant_type;
  if (grantType === 'refresh_token') refreshGrants[clientId] = (refreshGrants[clientId] || 0) + 1;
  const at = Date.now();
  const entry = (kind, value, expiresAt, tokenType) => issued.push({
    seq: issued.length, at, clientId, grantType, kind, value, expiresAt, tokenType,
  });
  if (body.access_token) {
    entry('access', body.access_token, at + (body.expires_in ?? 0) * 1000, body.token_type);
  }
  if (body.refresh_token) entry('refresh', body.refresh_token, undefined);
  if (body.id_token) entry('id', body.id_token, undefined);
}

function newProvider(jwks) {
  const created = new Provider(ISSUER, { ...configuration, jwks });
  created.on('server_error', (_ctx, err) => console.error('oidc-provider server_error:', err));
  created.on('grant.success', recordGrant);
  created.on('backchannel.success', (_ctx, client, accountId, sid) => {
    backchannel.push({ clientId: client.clientId, accountId, sid, ok: true });
  });
  created.on('backchannel.error', (_ctx, err, client, accountId, sid) => {
    console.error('oidc-provider backchannel.error:', err?.message || err);
    backchannel.push({ clientId: client.clientId, accountId, sid, ok: false, error: String(err?.message || err) });
  });
  return created;
}

/** GET /__admin/token?value=V: whether V is still an access or refresh token of the provider. */
async function tokenStatus(value) {
  const [access, refresh] = await Promise.all([
    provider.AccessToken.find(value),
    provider.RefreshToken.find(value),
  ]);
  return {
    access: Boolean(access),
    refresh: Boolean(refresh),
    consumed: Boolean(refresh?.consumed),
    jkt: access?.jkt ?? null,
  };
}

// Replaced by /__admin/rotate-key. Sessions, grants and logins under way survive it: the
// memory adapter's storage is the module's, shared by every Provider, and the cookie keys stay.
let provider = newProvider(configuration.jwks);
let providerCallback = provider.callback();

/** A new signing key under the same kid; returns its public half. */
function rotateKey() {
  const signingKey = newSigningKey();
  provider = newProvider({ keys: [signingKey] });
  providerCallback = provider.callback();
  const { kty, kid, alg, use, n, e } = signingKey;
  return { kty, kid, alg, use, n, e };
}

// ---------------------------------------------------------------- interactions

function readForm(req) {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      data += chunk;
      if (data.length > 64 * 1024) reject(new Error('body too large'));
    });
    req.on('end', () => resolve(new URLSearchParams(data)));
    req.on('error', reject);
  });
}

function send(res, status, type, body) {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Cache-Control', 'no-store');
  res.end(body);
}

async function grantConsent(details) {
  const { prompt: { details: missing }, grantId, session, params } = details;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  if (missing.missingResourceScopes) {
    for (const [indicator, scope] of Object.entries(missing.missingResourceScopes)) {
      grant.addResourceScope(indicator, scope.join(' '));
    }
  }
  return { consent: { grantId: await grant.save() } };
}

// /interaction/:uid (GET), /interaction/:uid/login (POST), /interaction/:uid/abort (GET)
async function handleInteraction(req, res, parts) {
  const [, uid, action] = parts;
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction uid mismatch');
  const client = await provider.Client.find(details.params.client_id);
  const clientName = client?.clientName || details.params.client_id;

  if (action === 'abort' && req.method === 'GET') {
    return provider.interactionFinished(req, res, {
      error: 'access_denied',
      error_description: 'End-User aborted interaction',
    }, { mergeWithLastSubmission: false });
  }

  if (action === 'login' && req.method === 'POST') {
    const form = await readForm(req);
    const login = normalizeLogin(form.get('login'));
    if (!login) {
      return send(res, 200, 'text/html; charset=utf-8', loginPage({
        uid, clientName, loginHint: '', error: 'Enter a username.',
      }));
    }
    // A code (any digits) is the second factor: the sign-in's class says so.
    const acr = /^[0-9]+$/.test(form.get('code') ?? '') ? ACR_SECOND_FACTOR : ACR_PASSWORD;
    return provider.interactionFinished(req, res, {
      login: { accountId: login, acr },
    }, { mergeWithLastSubmission: false });
  }

  if (action === undefined && req.method === 'GET') {
    if (details.prompt.name === 'login') {
      return send(res, 200, 'text/html; charset=utf-8', loginPage({
        uid,
        clientName,
        loginHint: details.params.login_hint || '',
        secondFactor: String(details.params.acr_values ?? '').split(' ').includes(ACR_SECOND_FACTOR),
      }));
    }
    if (details.prompt.name === 'consent') {
      // e.g. prompt=consent: grant it without showing a page.
      return provider.interactionFinished(req, res, await grantConsent(details), {
        mergeWithLastSubmission: true,
      });
    }
  }

  return send(res, 404, 'text/plain; charset=utf-8', 'not found');
}

// ---------------------------------------------------------------- server

const server = http.createServer(async (req, res) => {
  const { pathname } = new URL(req.url, ISSUER);
  res.on('finish', () => console.log(`${req.method} ${pathname} -> ${res.statusCode}`));
  requests[`${req.method} ${pathname}`] = (requests[`${req.method} ${pathname}`] || 0) + 1;
  try {
    const parts = pathname.split('/').filter(Boolean);
    if (parts[0] === 'interaction' && parts.length <= 3) {
      await handleInteraction(req, res, parts);
    } else if (ADMIN && pathname === '/__admin/rotate-key' && req.method === 'POST') {
      send(res, 200, 'application/json', JSON.stringify(rotateKey()));
    } else if (ADMIN && pathname === '/__admin/groups' && req.method === 'POST') {
      const params = new URL(req.url, ISSUER).searchParams;
      groupsOf[normalizeLogin(params.get('login'))] = (params.get('groups') || '').split(',').filter(Boolean);
      send(res, 200, 'application/json', '{}');
    } else if (ADMIN && pathname === '/__admin/issued-tokens' && req.method === 'GET') {
      const revocations = requests['POST /token/revocation'] || 0;
      send(res, 200, 'application/json', JSON.stringify({
        tokens: issued, refreshGrants, revocations, backchannel, requests,
      }));
    } else if (ADMIN && pathname === '/__admin/token' && req.method === 'GET') {
      const value = new URL(req.url, ISSUER).searchParams.get('value') || '';
      send(res, 200, 'application/json', JSON.stringify(await tokenStatus(value)));
    } else if (ADMIN && pathname === '/__admin/session' && req.method === 'GET') {
      const id = new URL(req.url, ISSUER).searchParams.get('id') || '';
      const session = id ? await provider.Session.find(id) : undefined;
      send(res, 200, 'application/json', JSON.stringify({ found: Boolean(session) }));
    } else if (pathname === '/avatars/alice.svg') {
      send(res, 200, 'image/svg+xml', AVATAR_SVG);
    } else {
      providerCallback(req, res);
    }
  } catch (err) {
    console.error(`error handling ${req.method} ${pathname}:`, err?.message || err);
    if (!res.headersSent) {
      send(res, 400, 'text/html; charset=utf-8', page('Error - Test OpenID Provider', `<h1>Something went wrong</h1><pre>${esc(err?.message || err)}</pre>`));
    } else {
      res.end();
    }
  }
});

server.listen(PORT, HOST, () => {
  console.log(`oidc-provider listening on ${HOST}:${PORT}, issuer ${ISSUER}`);
  console.log(`  client ${CLIENT_ID}, redirect_uris: ${REDIRECT_URIS.join(' ')}`);
  console.log(`  client ${TOKENS_CLIENT_ID}, redirect_uris: ${TOKENS_REDIRECT_URIS.join(' ')}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close();
    process.exit(0);
  });
}
