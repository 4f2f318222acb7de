//! Who the visitor is: the claims their provider vouched for.
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::{Map, Value};

/// A user's claims, as the provider sent them: names and JSON values.
pub type Claims = Map<String, Value>;

/// Shared: a page clones its user for every `use_user()`, and a copy of every claim each
/// time cost a signed-in page a fifth of what signing in adds to its server time (and the
/// browser bundle is smaller with a counted reference than with the code to copy a map).
type Held = std::sync::Arc<Claims>;

/// The signed-in visitor, or nobody.
///
/// Built on the server from the identity cookie and carried to the browser in the page,
/// so reading it never costs a request. `User::default()` is the signed-out visitor.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// The provider's claims (ID token merged with userinfo); empty when signed out.
    claims: Held,
    /// The `[auth.NAME]` provider that signed them in; `None` for the unnamed one.
    provider: Option<String>,
}

impl User {
    /// A signed-in user with these claims.
    pub fn signed_in(claims: Map<String, Value>, provider: Option<String>) -> Self {
        Self {
            claims: Held::from(claims),
            provider,
        }
    }

    /// Whether anyone is signed in: a provider vouched for a subject (`sub`).
    pub fn is_logged_in(&self) -> bool {
        self.sub().is_some()
    }

    /// The provider's stable identifier for this person.
    pub fn sub(&self) -> Option<&str> {
        self.get_str("sub")
    }

    /// A stable key for this person to store their data under. `sub` is unique only within
    /// one provider, so this is the issuer and the subject together.
    pub fn id(&self) -> Option<String> {
        Some(format!("{} {}", self.get_str("iss")?, self.sub()?))
    }

    /// The display name, falling back to the preferred username.
    pub fn name(&self) -> Option<&str> {
        self.get_str("name")
            .or_else(|| self.get_str("preferred_username"))
    }

    /// The email address the provider gave (check `email_verified` before trusting it).
    pub fn email(&self) -> Option<&str> {
        self.get_str("email")
    }

    /// The `[auth.NAME]` provider they signed in with; `None` for the unnamed provider.
    pub fn provider(&self) -> Option<&str> {
        self.provider.as_deref()
    }

    /// When they last signed in at their provider (the ID token's `auth_time`, Unix seconds),
    /// if it said: providers do when a login asks for `max_age`.
    pub fn auth_time(&self) -> Option<i64> {
        self.get("auth_time").and_then(Value::as_i64)
    }

    /// How they signed in (the ID token's `acr`, an authentication context class), if the
    /// provider said.
    pub fn acr(&self) -> Option<&str> {
        self.get_str("acr")
    }

    /// Whether they signed in at their provider at most `max_age_secs` before `now` (Unix
    /// seconds); a sign-in that did not say when counts as too old. The page guard and the
    /// server's `signed_in_within` both ask it.
    pub(crate) fn signed_in_at_most_ago(&self, max_age_secs: u64, now: i64) -> bool {
        self.auth_time().is_some_and(|auth_time| {
            now.saturating_sub(auth_time) <= i64::try_from(max_age_secs).unwrap_or(i64::MAX)
        })
    }

    /// Whether their sign-in's class (`acr`) is one of `accepted`.
    pub(crate) fn acr_among<'a>(&self, mut accepted: impl Iterator<Item = &'a str>) -> bool {
        self.acr()
            .is_some_and(|acr| accepted.any(|accepted| accepted == acr))
    }

    /// Any claim, as the provider sent it.
    pub fn get(&self, claim: &str) -> Option<&Value> {
        self.claims.get(claim)
    }

    /// A claim that is a string.
    pub fn get_str(&self, claim: &str) -> Option<&str> {
        self.get(claim).and_then(Value::as_str)
    }

    /// A claim as the type the app expects, e.g. `user.claim::<Vec<String>>("groups")`;
    /// `None` when it is missing or of another shape.
    pub fn claim<T: DeserializeOwned>(&self, claim: &str) -> Option<T> {
        T::deserialize(self.get(claim)?).ok()
    }

    /// All claims as the app's own claims struct, declared once with
    /// `#[derive(serde::Deserialize)]` (fields the provider did not send should be `Option`s
    /// or `#[serde(default)]`). `None` when signed out or when the claims do not fit it.
    ///
    /// ```
    /// #[derive(serde::Deserialize)]
    /// struct Claims {
    ///     email: String,
    ///     #[serde(default)]
    ///     groups: Vec<String>,
    /// }
    ///
    /// fn is_admin(user: &leptos_login::User) -> bool {
    ///     user.claims_as::<Claims>()
    ///         .is_some_and(|claims| claims.groups.iter().any(|group| group == "admins"))
    /// }
    /// # assert!(!is_admin(&leptos_login::User::default()));
    /// ```
    pub fn claims_as<C: DeserializeOwned>(&self) -> Option<C> {
        if !self.is_logged_in() {
            return None;
        }
        C::deserialize(serde_json::Value::Object(Claims::clone(&self.claims))).ok()
    }

    /// All claims, for pages that list them.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// Every claim's name and its value as text: strings as they are, anything else as JSON.
    pub fn claims_as_text(&self) -> impl Iterator<Item = (&str, String)> {
        self.claims.iter().map(|(name, value)| {
            let text = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            (name.as_str(), text)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user(claims: Value) -> User {
        let Value::Object(claims) = claims else {
            panic!("test claims must be an object")
        };
        User::signed_in(claims, None)
    }

    #[test]
    fn signed_out_by_default() {
        let nobody = User::default();
        assert!(!nobody.is_logged_in());
        assert_eq!(nobody.name(), None);
        assert_eq!(nobody.email(), None);
    }

    #[test]
    fn reads_standard_and_custom_claims() {
        let alice = user(json!({
            "sub": "alice", "name": "Alice", "email": "alice@example.com", "groups": ["admins"]
        }));
        assert!(alice.is_logged_in());
        assert_eq!(alice.name(), Some("Alice"));
        assert_eq!(alice.email(), Some("alice@example.com"));
        assert_eq!(alice.get("groups"), Some(&json!(["admins"])));
    }

    #[test]
    fn the_id_tells_providers_apart() {
        let google = user(json!({"sub": "42", "iss": "https://accounts.google.com"}));
        let other = user(json!({"sub": "42", "iss": "https://login.example"}));
        assert_eq!(
            google.id().as_deref(),
            Some("https://accounts.google.com 42")
        );
        assert_ne!(google.id(), other.id());
        assert_eq!(user(json!({"sub": "42"})).id(), None);
    }

    #[test]
    fn claims_come_typed() {
        let alice = user(json!({
            "sub": "alice", "groups": ["admins", "staff"], "age": 36, "email_verified": true
        }));
        assert_eq!(
            alice.claim::<Vec<String>>("groups"),
            Some(vec!["admins".to_owned(), "staff".to_owned()])
        );
        assert_eq!(alice.claim::<u32>("age"), Some(36));
        assert_eq!(alice.claim::<bool>("email_verified"), Some(true));
        // Missing, or not of that shape.
        assert_eq!(alice.claim::<String>("nickname"), None);
        assert_eq!(alice.claim::<u32>("groups"), None);

        #[derive(Deserialize, Debug, PartialEq)]
        struct Claims {
            sub: String,
            groups: Vec<String>,
            #[serde(default)]
            nickname: Option<String>,
        }
        assert_eq!(
            alice.claims_as::<Claims>(),
            Some(Claims {
                sub: "alice".to_owned(),
                groups: vec!["admins".to_owned(), "staff".to_owned()],
                nickname: None,
            })
        );
        assert_eq!(User::default().claims_as::<Map<String, Value>>(), None);
        let small = user(json!({"sub": "a", "age": 3}));
        let text: Vec<_> = small.claims_as_text().collect();
        assert_eq!(text, [("age", "3".to_owned()), ("sub", "a".to_owned())]);
    }

    #[test]
    fn name_falls_back_to_preferred_username() {
        let bob = user(json!({"sub": "b", "preferred_username": "bob"}));
        assert_eq!(bob.name(), Some("bob"));
    }

    #[test]
    fn claims_without_subject_are_not_a_user() {
        assert!(!user(json!({"name": "Mallory"})).is_logged_in());
    }
}
