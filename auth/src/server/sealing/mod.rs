//! The two cookies this crate writes, sealed with the cookie crate's private jar (AES-256-GCM,
//! the cookie name bound in as associated data):
//! - the identity cookie: who is signed in, for 30 days;
//! - one login-state cookie per login under way: PKCE verifier, state, nonce, return path,
//!   for 10 minutes. Its name carries the `state`, so two tabs logging in at once each find
//!   their own.
use cookie::{Cookie, CookieJar, Key, SameSite};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::{Map, Value};
use time::{Duration, OffsetDateTime};
use url::Url;

use crate::{server::config::Secret, user::User};

/// How long a sign-in lasts, as in Streamlit.
pub const IDENTITY_LIFETIME: Duration = Duration::days(30);
/// How long a visitor may take at their provider before the login must start again.
pub const LOGIN_STATE_LIFETIME: Duration = Duration::minutes(10);
/// Browsers keep at most 4096 bytes of name and value, and nginx's default
/// `proxy_buffer_size` (4 KB) must hold the callback's whole header with this cookie in it.
pub const MAX_COOKIE_BYTES: usize = 3500;
/// Logins under way in one browser at once (tabs, double clicks, abandoned attempts): the
/// oldest beyond this is forgotten, and finishing it says "start again".
pub const MAX_LOGINS_IN_FLIGHT: usize = 4;
/// The login-state cookies together (names and values) stay under this, so that a browser's
/// Cookie header stays far below proxies' limits (nginx answers 400 past 8 KB) whatever the
/// visitor clicks. The newest login is always kept.
pub const MAX_LOGIN_STATE_BYTES: usize = 2800;
/// More login-state cookies than this are not even opened to find the oldest: all go.
const MAX_LOGIN_STATES_OPENED: usize = 16;
/// At most this many are removed in one answer, to keep its header small (behind nginx, 4 KB);
/// a browser holding more (from before the cap) loses the rest on its next logins.
const MAX_REMOVALS_AT_ONCE: usize = 8;

const IDENTITY_NAME: &str = "auth_user";
const LOGIN_STATE_PREFIX: &str = "auth_login_";
/// A logout at the provider under way: the `state` its return must bring back.
const LOGOUT_STATE_NAME: &str = "auth_logout";
/// `__Host-` tells browsers to refuse the cookie unless Secure, Path=/ and host-only.
const HOST_PREFIX: &str = "__Host-";

/// Claims kept when the full set is too large for one cookie: the standard OpenID Connect ones.
const STANDARD_CLAIMS: [&str; 25] = [
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "email",
    "email_verified",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "phone_number",
    "phone_number_verified",
    "address",
    "updated_at",
];

/// A login under way, between the `login` server function and the callback.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoginState {
    /// The `state` sent to the provider, which the callback must bring back.
    pub state: String,
    /// The `nonce` the ID token must carry.
    pub nonce: String,
    /// The PKCE verifier for the code exchange.
    pub pkce_verifier: String,
    /// The `[auth.NAME]` provider, `None` for the unnamed one.
    pub provider: Option<String>,
    /// A same-origin path to return to after the callback.
    pub return_to: String,
    /// Where the provider sends this login back when not to the configured `redirect_uri`
    /// (the development provider, at the loopback address the visitor used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<Url>,
    /// The `max_age` this login asked (seconds), which the ID token's `auth_time` must meet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u64>,
    /// The authentication classes this login asked for (`acr_values`), one of which the ID
    /// token's `acr` must name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr_values: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Sealed<T> {
    /// Unix seconds after which the content is void, whatever the browser kept.
    expires_at: i64,
    /// When the session was last seen, for an idle timeout (absent in older cookies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    seen_at: Option<i64>,
    content: T,
}

/// What an opened cookie held, and which key opened it.
pub(crate) struct Opened<T> {
    pub(crate) content: T,
    /// Unix seconds after which it is void.
    pub(crate) expires_at: i64,
    /// When its session was last seen, if the cookie says.
    pub(crate) seen_at: Option<i64>,
    /// Sealed with the current key; else it should be sealed anew.
    pub(crate) with_current_key: bool,
}

/// The claims are too large for one cookie even with only the standard claims.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("the provider's claims take {0} bytes, more than one cookie can hold")]
pub struct TooLarge(pub usize);

/// A cookie or a stored value could not be sealed. Sealing plain data cannot fail unless a
/// type's `Serialize` does; if it ever does, the act that needed it is refused (and logged),
/// never carried out with an empty value.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SealError {
    #[error(transparent)]
    /// The claims do not fit in a cookie.
    TooLarge(#[from] TooLarge),
    #[error("cannot seal {0}")]
    /// The content did not serialize, or the encryption gave nothing back.
    Failed(String),
}

/// Names, flags, sealing and opening of both cookies.
#[derive(Clone)]
pub struct CookieCodec {
    /// Seals, and opens first.
    key: Key,
    /// Retired secrets' keys: they still open cookies, which are then sealed anew.
    previous: Vec<Key>,
    secure: bool,
}

impl CookieCodec {
    /// `secure`: the site is served over https, so cookies get `Secure` and the `__Host-` prefix.
    pub fn new(secret: &Secret, secure: bool) -> Self {
        Self::with_key(Key::derive_from(secret.expose().as_bytes()), secure)
    }

    /// A codec with this key (tests, and sign-in switched off).
    pub fn with_key(key: Key, secure: bool) -> Self {
        Self {
            key,
            previous: Vec::new(),
            secure,
        }
    }

    /// Also opens cookies sealed with these retired secrets (`previous_cookie_secrets`).
    pub fn with_previous_secrets(mut self, previous: &[Secret]) -> Self {
        self.previous = previous
            .iter()
            .map(|secret| Key::derive_from(secret.expose().as_bytes()))
            .collect();
        self
    }

    /// The identity cookie's name (`__Host-` prefixed over https).
    pub fn identity_name(&self) -> String {
        self.prefixed(IDENTITY_NAME)
    }

    /// The login-state cookie for `state`, or `None` when `state` is not one we could have made.
    pub fn login_state_name(&self, state: &str) -> Option<String> {
        let plausible = !state.is_empty()
            && state.len() <= 64
            && state
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        plausible.then(|| self.prefixed(&format!("{LOGIN_STATE_PREFIX}{state}")))
    }

    fn prefixed(&self, name: &str) -> String {
        if self.secure {
            format!("{HOST_PREFIX}{name}")
        } else {
            name.to_owned()
        }
    }

    /// The identity cookie for `user`, valid for [`IDENTITY_LIFETIME`], dropping non-standard
    /// claims if they would not fit.
    pub fn identity_cookie(
        &self,
        user: &User,
        now: OffsetDateTime,
    ) -> Result<Cookie<'static>, SealError> {
        self.identity_cookie_until(user, now, now + IDENTITY_LIFETIME, None)
    }

    /// The identity cookie holding the whole session (cookie mode): `user`, void after
    /// `expires_at`, last seen at `seen_at` when an idle timeout needs it.
    pub(crate) fn identity_cookie_until(
        &self,
        user: &User,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
        seen_at: Option<i64>,
    ) -> Result<Cookie<'static>, SealError> {
        let name = self.identity_name();
        let cookie = self.seal_identity(user, now, expires_at, seen_at)?;
        let size = name.len() + cookie.value().len();
        if size <= MAX_COOKIE_BYTES {
            return Ok(cookie);
        }
        let standard: Map<String, Value> = user
            .claims()
            .iter()
            .filter(|(claim, _)| STANDARD_CLAIMS.contains(&claim.as_str()))
            .map(|(claim, value)| (claim.clone(), value.clone()))
            .collect();
        let dropped: Vec<&str> = user
            .claims()
            .keys()
            .filter(|claim| !standard.contains_key(*claim))
            .map(String::as_str)
            .collect();
        let trimmed = User::signed_in(standard, user.provider().map(str::to_owned));
        let cookie = self.seal_identity(&trimmed, now, expires_at, seen_at)?;
        let trimmed_size = name.len() + cookie.value().len();
        if trimmed_size > MAX_COOKIE_BYTES {
            return Err(TooLarge(size).into());
        }
        tracing::warn!(
            ?dropped,
            "claims too large for the identity cookie ({size} bytes); kept the standard claims only"
        );
        Ok(cookie)
    }

    /// The signed-in user, or `None` when the cookie is forged, damaged, foreign or expired.
    pub fn open_identity(&self, cookie: &Cookie<'static>, now: OffsetDateTime) -> Option<User> {
        self.open_identity_and_reissue(cookie, now)
            .map(|(user, _)| user)
    }

    /// As [`Self::open_identity`]; when the cookie opened only with a retired secret, also
    /// the same cookie sealed with the current one (same expiry), to send back.
    pub fn open_identity_and_reissue(
        &self,
        cookie: &Cookie<'static>,
        now: OffsetDateTime,
    ) -> Option<(User, Option<Cookie<'static>>)> {
        let opened = self
            .open_identity_as::<User>(cookie, now)
            .filter(|opened| opened.content.is_logged_in())?;
        let reissue = if opened.with_current_key {
            None
        } else {
            self.reseal_identity(&opened, now, opened.seen_at).ok()
        };
        Some((opened.content, reissue))
    }

    /// What the identity cookie holds (a user in cookie mode, a session id with a store), if
    /// it is ours, intact and not void.
    pub(crate) fn open_identity_as<T: DeserializeOwned>(
        &self,
        cookie: &Cookie<'_>,
        now: OffsetDateTime,
    ) -> Option<Opened<T>> {
        if cookie.name() != self.identity_name() {
            return None;
        }
        self.open::<T>(cookie, now)
    }

    /// The identity cookie `opened` came from, sealed anew with the current key: the same
    /// content and expiry, last seen at `seen_at`.
    pub(crate) fn reseal_identity<T: Serialize>(
        &self,
        opened: &Opened<T>,
        now: OffsetDateTime,
        seen_at: Option<i64>,
    ) -> Result<Cookie<'static>, SealError> {
        let expires_at = OffsetDateTime::from_unix_timestamp(opened.expires_at).unwrap_or(now);
        self.seal_identity(&opened.content, now, expires_at, seen_at)
    }

    /// The identity cookie holding `content`, void after `expires_at`.
    pub(crate) fn seal_identity<T: Serialize>(
        &self,
        content: &T,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
        seen_at: Option<i64>,
    ) -> Result<Cookie<'static>, SealError> {
        let sealed = Sealed {
            expires_at: expires_at.unix_timestamp(),
            seen_at,
            content,
        };
        self.seal_sealed(&self.identity_name(), &sealed, expires_at - now)
    }

    /// `content` sealed with the current key under `label` (bound in as associated data, so
    /// it opens only under the same label): for what the session store keeps.
    pub(crate) fn seal_value<T: Serialize>(
        &self,
        label: &str,
        content: &T,
    ) -> Result<String, SealError> {
        self.encrypt(label, json_of(content)?)
    }

    /// What [`Self::seal_value`] sealed under `label`, if some key opens it.
    pub(crate) fn open_value<T: DeserializeOwned>(&self, label: &str, sealed: &str) -> Option<T> {
        let (_, plain) = self.decrypt(label, sealed)?;
        serde_json::from_str(&plain).ok()
    }

    /// A public name for the stored session `key`, for the page that lists an account's
    /// sessions: an HMAC-SHA256 of the key under the current key's signing half, so it can be
    /// handed out without handing out the key (or, through it, anything a dump of the store
    /// could be matched with), and nobody without the cookie secret can make one. 128 bits,
    /// base64url. (A new secret names the same session anew: a page listed before a rotation
    /// ends nothing after it, and is listed again.)
    pub(crate) fn handle_of(&self, key: &str) -> String {
        use hmac::{Hmac, Mac};
        // HMAC takes a key of any length: this cannot fail.
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(self.key.signing())
            .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
        mac.update(b"leptos-login session handle\n");
        mac.update(key.as_bytes());
        let digest = mac.finalize().into_bytes();
        base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            &digest[..16],
        )
    }

    /// The login-state cookie for `login`; an error when its `state` could not be a name.
    pub fn login_state_cookie(
        &self,
        login: &LoginState,
        now: OffsetDateTime,
    ) -> Result<Cookie<'static>, SealError> {
        let name = self
            .login_state_name(&login.state)
            .ok_or_else(|| failed("the login state: its state is unfit for a cookie name"))?;
        self.seal(
            &name,
            login,
            now + LOGIN_STATE_LIFETIME,
            LOGIN_STATE_LIFETIME,
        )
    }

    /// The names of the browser's login-state cookies to forget before it gets `new`: those
    /// that do not open (forged, expired, an old key's) and the oldest beyond
    /// [`MAX_LOGINS_IN_FLIGHT`] or [`MAX_LOGIN_STATE_BYTES`].
    pub fn login_states_to_drop<'a, 'c: 'a>(
        &self,
        present: impl IntoIterator<Item = &'a Cookie<'c>>,
        new: &Cookie<'_>,
        now: OffsetDateTime,
    ) -> Vec<String> {
        let prefix = self.prefixed(LOGIN_STATE_PREFIX);
        let present: Vec<&Cookie<'c>> = present
            .into_iter()
            .filter(|cookie| cookie.name().starts_with(&prefix) && cookie.name() != new.name())
            .collect();
        let mut drop = Vec::new();
        let mut live = Vec::new();
        for cookie in &present {
            let opened = (present.len() <= MAX_LOGIN_STATES_OPENED)
                .then(|| self.open::<LoginState>(cookie, now))
                .flatten();
            match opened {
                Some(opened) => live.push((opened.expires_at, *cookie)),
                None => drop.push(cookie.name().to_owned()),
            }
        }
        // Newest first: keep while there is room, the new login's included.
        live.sort_by_key(|(expires_at, _)| std::cmp::Reverse(*expires_at));
        let mut count = 1;
        let mut bytes = cookie_bytes(new);
        for (_, cookie) in live {
            count += 1;
            bytes += cookie_bytes(cookie);
            if count > MAX_LOGINS_IN_FLIGHT || bytes > MAX_LOGIN_STATE_BYTES {
                drop.push(cookie.name().to_owned());
            }
        }
        drop.truncate(MAX_REMOVALS_AT_ONCE);
        drop
    }

    /// The login under way, if the cookie is ours, intact, fresh and for this `state`.
    pub fn open_login_state(
        &self,
        cookie: &Cookie<'static>,
        state: &str,
        now: OffsetDateTime,
    ) -> Option<LoginState> {
        if Some(cookie.name()) != self.login_state_name(state).as_deref() {
            return None;
        }
        self.open::<LoginState>(cookie, now)
            .map(|opened| opened.content)
            .filter(|login| login.state == state)
    }

    /// The logout-state cookie's name.
    pub(crate) fn logout_state_name(&self) -> String {
        self.prefixed(LOGOUT_STATE_NAME)
    }

    /// The cookie holding `state` while the visitor is at the provider to log out there.
    pub(crate) fn logout_state_cookie(
        &self,
        state: &str,
        now: OffsetDateTime,
    ) -> Result<Cookie<'static>, SealError> {
        self.seal(
            &self.logout_state_name(),
            &state,
            now + LOGIN_STATE_LIFETIME,
            LOGIN_STATE_LIFETIME,
        )
    }

    /// The `state` of a logout at the provider under way, if the cookie is ours and fresh.
    pub(crate) fn open_logout_state(
        &self,
        cookie: &Cookie<'_>,
        now: OffsetDateTime,
    ) -> Option<String> {
        (cookie.name() == self.logout_state_name())
            .then(|| self.open::<String>(cookie, now))
            .flatten()
            .map(|opened| opened.content)
    }

    /// A cookie that makes the browser forget `name`: same name, path and flags, long expired.
    pub fn removal(&self, name: &str) -> Cookie<'static> {
        let mut cookie = self.with_flags(Cookie::new(name.to_owned(), ""));
        cookie.make_removal();
        cookie
    }

    /// `content` sealed with the current key, void after `expires_at`; the browser keeps it
    /// for `max_age`.
    fn seal<T: Serialize>(
        &self,
        name: &str,
        content: &T,
        expires_at: OffsetDateTime,
        max_age: Duration,
    ) -> Result<Cookie<'static>, SealError> {
        let sealed = Sealed {
            expires_at: expires_at.unix_timestamp(),
            seen_at: None,
            content,
        };
        self.seal_sealed(name, &sealed, max_age)
    }

    fn seal_sealed<T: Serialize>(
        &self,
        name: &str,
        sealed: &Sealed<T>,
        max_age: Duration,
    ) -> Result<Cookie<'static>, SealError> {
        let encrypted = self.encrypt(name, json_of(sealed)?)?;
        let mut cookie = self.with_flags(Cookie::new(name.to_owned(), encrypted));
        cookie.set_max_age(max_age);
        Ok(cookie)
    }

    /// `plain` encrypted with the current key, `name` bound in as associated data.
    fn encrypt(&self, name: &str, plain: String) -> Result<String, SealError> {
        let mut jar = CookieJar::new();
        jar.private_mut(&self.key)
            .add(Cookie::new(name.to_owned(), plain));
        jar.get(name)
            .map(|cookie| cookie.value().to_owned())
            .filter(|sealed| !sealed.is_empty())
            .ok_or_else(|| failed(&format!("{name}: the encryption gave nothing back")))
    }

    /// The content, if some key (the current one first) opens the cookie and it is not void.
    fn open<T: DeserializeOwned>(
        &self,
        cookie: &Cookie<'_>,
        now: OffsetDateTime,
    ) -> Option<Opened<T>> {
        let (index, plain) = self.decrypt(cookie.name(), cookie.value())?;
        let sealed: Sealed<T> = serde_json::from_str(&plain).ok()?;
        (now.unix_timestamp() < sealed.expires_at).then_some(Opened {
            content: sealed.content,
            expires_at: sealed.expires_at,
            seen_at: sealed.seen_at,
            with_current_key: index == 0,
        })
    }

    /// What `sealed` holds and which key opened it (0: the current one, tried first), if one
    /// of the keys opens it under `name`.
    fn decrypt(&self, name: &str, sealed: &str) -> Option<(usize, String)> {
        let keys = std::iter::once(&self.key).chain(&self.previous);
        keys.enumerate().find_map(|(index, key)| {
            let plain = CookieJar::new()
                .private(key)
                .decrypt(Cookie::new(name.to_owned(), sealed.to_owned()))?;
            Some((index, plain.value().to_owned()))
        })
    }

    fn with_flags(&self, mut cookie: Cookie<'static>) -> Cookie<'static> {
        cookie.set_http_only(true);
        cookie.set_same_site(SameSite::Lax);
        cookie.set_path("/");
        cookie.set_secure(self.secure);
        cookie
    }
}

/// `content` as JSON, for sealing.
fn json_of<T: Serialize + ?Sized>(content: &T) -> Result<String, SealError> {
    serde_json::to_string(content).map_err(|error| failed(&format!("a value: {error}")))
}

/// A sealing failure, logged once where it happens (what failed, never the content).
fn failed(what: &str) -> SealError {
    tracing::error!("cannot seal {what}: the act that needed it is refused");
    SealError::Failed(what.to_owned())
}

/// What a cookie adds to the Cookie header: `name=value; `.
fn cookie_bytes(cookie: &Cookie<'_>) -> usize {
    cookie.name().len() + cookie.value().len() + 3
}

#[cfg(test)]
mod tests;
