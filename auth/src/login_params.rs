//! What one login may ask of the provider beyond the configuration (`prompt`, `login_hint`,
//! `max_age`, extra scopes, …): [`LoginParams`], sent by the browser with the login, and
//! checked by the server against the provider's `login_params` allow-list, since whatever a
//! button sends, a visitor can send too.
//!
//! They travel as one form field, `params`, encoded as a query is (`prompt=login&…`): a
//! button then renders one more hidden input like the others, and the browser bundle carries
//! no code for a list of fields (what sign-in adds to an app's wasm is a measured budget).
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Allowed unless a provider's `login_params` says otherwise: each changes how the sign-in
/// looks or how fresh it must be, never what the app is given.
pub const DEFAULT_LOGIN_PARAMS: [&str; 4] = ["prompt", "login_hint", "max_age", "ui_locales"];
/// [`DEFAULT_LOGIN_PARAMS`], as a provider's configuration holds them.
#[cfg(feature = "ssr")]
pub(crate) fn default_allowed() -> Vec<String> {
    DEFAULT_LOGIN_PARAMS.map(str::to_owned).to_vec()
}

/// No sign-in needs more, and each is a field of a form anyone can post.
#[cfg(feature = "ssr")]
const MAX_PARAMS: usize = 16;
#[cfg(feature = "ssr")]
const MAX_VALUE_BYTES: usize = 512;

/// Authorization parameters for one login (OpenID Connect Core 3.1.2.1), on top of the
/// provider's `client_kwargs`: for `<LoginButton params=…>` and `ui::go_to_login_with`.
/// The server accepts only names the provider's
/// `login_params` allows (by default `prompt`, `login_hint`, `max_age` and `ui_locales`),
/// and refuses anything else with a 400 naming it.
///
/// ```
/// use leptos_login::ui::LoginParams;
///
/// let params = LoginParams::new()
///     .prompt("select_account")
///     .login_hint("alice@example.com")
///     .param("domain_hint", "example.com");
/// assert_eq!(params.get("prompt"), Some("select_account"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoginParams {
    pairs: Vec<(String, String)>,
    /// `pairs` as the field carries them, kept as they change: a button with none then
    /// costs the browser bundle no encoder.
    encoded: String,
}

impl LoginParams {
    /// None: the login asks what the configuration says.
    pub fn new() -> Self {
        Self::default()
    }

    /// `prompt`: `"login"` (sign in again), `"select_account"`, `"consent"` or `"none"`.
    pub fn prompt(self, prompt: impl Into<String>) -> Self {
        self.param("prompt", prompt)
    }

    /// `login_hint`: the account to suggest, e.g. an email address.
    pub fn login_hint(self, hint: impl Into<String>) -> Self {
        self.param("login_hint", hint)
    }

    /// `max_age`: sign in again unless the provider's own sign-in is at most this old.
    pub fn max_age(self, max_age: std::time::Duration) -> Self {
        self.param("max_age", max_age.as_secs().to_string())
    }

    /// `acr_values`: the authentication context classes to ask for, space-separated (not
    /// allowed unless the provider's `login_params` lists it).
    pub fn acr_values(self, values: impl Into<String>) -> Self {
        self.param("acr_values", values)
    }

    /// `scope`: scopes to ask for besides the configured ones, space-separated (not allowed
    /// unless the provider's `login_params` lists `scope`).
    pub fn scopes(self, scopes: impl Into<String>) -> Self {
        self.param("scope", scopes)
    }

    /// `ui_locales`: the languages for the provider's pages, e.g. `"de en"`.
    pub fn ui_locales(self, locales: impl Into<String>) -> Self {
        self.param("ui_locales", locales)
    }

    /// Any other parameter, such as Entra's `domain_hint` or Auth0's `audience` and
    /// `organization` (allowed only where the provider's `login_params` lists it).
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let (name, value) = (name.into(), value.into());
        self.pairs.retain(|(present, _)| *present != name);
        self.pairs.push((name, value));
        self.encoded = encode(&self.pairs);
        self
    }

    /// The value asked for `name`, if any.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter()
            .find_map(|(present, value)| (present == name).then_some(value))
    }

    /// Every parameter, in the order they were added.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }

    /// As the `params` field carries them: `name=value&…`, each percent-encoded.
    pub fn encoded(&self) -> &str {
        &self.encoded
    }

    /// What [`LoginParams::encoded`] made (or a visitor sent); a name given twice keeps its
    /// last value.
    #[cfg(feature = "ssr")]
    pub(crate) fn decode(encoded: &str) -> Self {
        url::form_urlencoded::parse(encoded.as_bytes())
            .fold(Self::default(), |params, (name, value)| {
                params.param(name, value)
            })
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The parameters if every name is in `allowed` and every value is one a provider could
    /// take; otherwise what is wrong, naming the parameter (for a 400).
    #[cfg(feature = "ssr")]
    pub(crate) fn checked(&self, allowed: &[String]) -> Result<&Self, String> {
        if self.pairs.len() > MAX_PARAMS {
            return Err(format!(
                "A login takes at most {MAX_PARAMS} parameters; this one has {}.",
                self.pairs.len()
            ));
        }
        for (name, value) in &self.pairs {
            let shown = shown(name);
            if !allowed.iter().any(|allowed| allowed == name) {
                return Err(format!(
                    "The login parameter \"{shown}\" is not one this app accepts (its \
                     provider's login_params)."
                ));
            }
            if value.len() > MAX_VALUE_BYTES || value.chars().any(char::is_control) {
                return Err(format!(
                    "The login parameter \"{shown}\" must be at most {MAX_VALUE_BYTES} bytes \
                     of text on one line."
                ));
            }
            let well_formed = match name.as_str() {
                "max_age" => {
                    !value.is_empty()
                        && value.len() <= 10
                        && value.bytes().all(|b| b.is_ascii_digit())
                }
                // RFC 6749 3.3: scope-tokens of printable ASCII but `"` and `\`.
                "scope" => value.split(' ').all(|scope| {
                    !scope.is_empty()
                        && scope
                            .bytes()
                            .all(|b| matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E))
                }),
                _ => true,
            };
            if !well_formed {
                return Err(format!(
                    "The login parameter \"{shown}\" is malformed: max_age is whole seconds, \
                     scope is scope names separated by single spaces."
                ));
            }
        }
        Ok(self)
    }
}

/// `pairs` as a query: `name=value&…`.
fn encode(pairs: &[(String, String)]) -> String {
    let mut encoded = String::new();
    for (name, value) in pairs {
        if !encoded.is_empty() {
            encoded.push('&');
        }
        percent_encode(name, &mut encoded);
        encoded.push('=');
        percent_encode(value, &mut encoded);
    }
    encoded
}

/// Every byte but letters, digits and `-._~` as `%XX` (RFC 3986's unreserved characters
/// stand for themselves): what a query's names and values need, in a few lines rather than a
/// URL library in the browser bundle.
fn percent_encode(text: &str, into: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            into.push(char::from(byte));
        } else {
            into.push('%');
            into.push(char::from(HEX[usize::from(byte >> 4)]));
            into.push(char::from(HEX[usize::from(byte & 0xF)]));
        }
    }
}

impl Serialize for LoginParams {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.encoded)
    }
}

impl<'de> Deserialize<'de> for LoginParams {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let encoded = String::deserialize(deserializer)?;
        #[cfg(feature = "ssr")]
        return Ok(Self::decode(&encoded));
        #[cfg(not(feature = "ssr"))]
        {
            // The browser only ever sends them.
            let _ = encoded;
            Ok(Self::default())
        }
    }
}

/// The name a failed login's way back gives the button that sent it (`auth_form`), so that of
/// several login buttons on a page only that one says why: none for the plain one (the
/// unnamed provider, no parameters), else `login.PROVIDER.PARAM…` (names only). The server
/// names only a provider it has and parameters it allowed, whose names need no escaping
/// (config.rs holds them to letters, digits, `-`, `_` and `.`).
pub(crate) fn login_form(provider: Option<&str>, params: &LoginParams) -> Option<String> {
    let provider = provider.unwrap_or_default();
    if provider.is_empty() && params.is_empty() {
        return None;
    }
    let mut form = String::from("login.");
    form.push_str(provider);
    for (name, _) in params.iter() {
        form.push('.');
        form.push_str(name);
    }
    Some(form)
}

/// `name` as an error may repeat it: short, and without what could forge a line.
#[cfg(feature = "ssr")]
fn shown(name: &str) -> String {
    name.chars().filter(|c| !c.is_control()).take(64).collect()
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    fn allowed(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    #[test]
    fn allowed_parameters_pass_and_others_are_named() {
        let defaults = allowed(&DEFAULT_LOGIN_PARAMS);
        let params = LoginParams::new()
            .prompt("login")
            .login_hint("alice@example.com");
        assert!(params.checked(&defaults).is_ok());
        for name in [
            "redirect_uri",
            "response_type",
            "request",
            "scope",
            "acr_values",
        ] {
            let error = LoginParams::new()
                .param(name, "x")
                .checked(&defaults)
                .expect_err(name);
            assert!(error.contains(&format!("\"{name}\"")), "{error}");
        }
        let scopes = allowed(&["scope"]);
        assert!(
            LoginParams::new()
                .scopes("groups offline_access")
                .checked(&scopes)
                .is_ok()
        );
    }

    #[test]
    fn values_that_no_provider_takes_are_refused() {
        let all = allowed(&["max_age", "scope", "login_hint"]);
        for params in [
            LoginParams::new().param("max_age", "1h"),
            LoginParams::new().param("max_age", ""),
            LoginParams::new().scopes("groups  email"),
            LoginParams::new().scopes("a\"b"),
            LoginParams::new().login_hint("alice\r\nSet-Cookie: x"),
            LoginParams::new().login_hint("a".repeat(MAX_VALUE_BYTES + 1)),
        ] {
            assert!(params.checked(&all).is_err(), "{params:?}");
        }
        assert!(
            LoginParams::new()
                .max_age(std::time::Duration::from_secs(300))
                .checked(&all)
                .is_ok()
        );
        let many = (0..=MAX_PARAMS).fold(LoginParams::new(), |params, n| {
            params.param(format!("p{n}"), "x")
        });
        let every: Vec<String> = many.iter().map(|(name, _)| name.to_owned()).collect();
        assert!(many.checked(&every).is_err());
    }

    #[test]
    fn each_login_button_has_a_form_name_of_its_own_that_needs_no_escaping() {
        assert_eq!(login_form(None, &LoginParams::new()), None);
        assert_eq!(login_form(Some(""), &LoginParams::new()), None);
        assert_eq!(
            login_form(Some("google"), &LoginParams::new()).as_deref(),
            Some("login.google")
        );
        let hinted = LoginParams::new()
            .login_hint("alice@example.com")
            .prompt("login");
        assert_eq!(
            login_form(None, &hinted).as_deref(),
            Some("login..login_hint.prompt"),
            "names, never values"
        );
    }

    #[test]
    fn parameters_travel_as_one_field_and_come_back_as_they_were() {
        let params = LoginParams::new()
            .login_hint("ada+test@example.com")
            .param("ui_locales", "de en")
            .param("x=y&z", "a%b\u{e9}")
            .login_hint("ada@example.com");
        let encoded = params.encoded();
        assert_eq!(
            encoded,
            "ui_locales=de%20en&x%3Dy%26z=a%25b%C3%A9&login_hint=ada%40example.com"
        );
        assert_eq!(LoginParams::decode(encoded), params);
        assert_eq!(
            LoginParams::decode("prompt=login&prompt=consent").get("prompt"),
            Some("consent")
        );
        assert!(LoginParams::decode("").is_empty());
    }

    #[test]
    fn an_error_never_repeats_a_line_break() {
        let error = LoginParams::new()
            .param("x\r\ny", "1")
            .checked(&allowed(&[]))
            .expect_err("unknown");
        assert!(!error.contains('\n') && !error.contains('\r'), "{error}");
    }
}
