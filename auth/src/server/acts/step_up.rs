//! Step-up (RFC 9470): server code that needs a more recent sign-in than the visitor's, or a
//! stronger one, says so on the [`User`] it has, and a visitor who falls short is answered
//! 401 with the challenge a client can act on (sign in again, asking the provider for
//! `max_age` or `acr_values`).
use std::time::Duration;

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

use crate::{AuthError, User};

/// Why a signed-in visitor may not go on until they sign in again: their sign-in is too old
/// for [`User::signed_in_within`], or not of a class [`User::with_acr`] accepts. An axum
/// handler returns it as a 401 with `WWW-Authenticate: Bearer
/// error="insufficient_user_authentication"`, naming the `max_age` or `acr_values` to sign
/// in with; `?` in a server function turns it into [`AuthError::FreshLoginNeeded`] (401,
/// with the same header).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepUp {
    /// Seconds: the oldest sign-in that would do.
    pub max_age: Option<u64>,
    /// The authentication context classes that would do, space-separated.
    pub acr_values: Option<String>,
}

impl User {
    /// This user, if they signed in at their provider at most `max_age` ago (the ID token's
    /// `auth_time`, which providers send when a login asks for `max_age`; a sign-in without
    /// one counts as too old). `require_user().await?.signed_in_within(Duration::from_secs(300))?`
    /// before changing a password, say.
    pub fn signed_in_within(self, max_age: Duration) -> Result<Self, StepUp> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let max_age_secs = max_age.as_secs();
        if self.signed_in_at_most_ago(max_age_secs, now) {
            Ok(self)
        } else {
            Err(StepUp {
                max_age: Some(max_age_secs),
                acr_values: None,
            })
        }
    }

    /// This user, if their sign-in's class (the ID token's `acr`) is one of `accepted`, such
    /// as `["phrh"]` for phishing-resistant hardware: what the provider says of how the
    /// visitor signed in, for pages that need a second factor.
    pub fn with_acr(self, accepted: &[&str]) -> Result<Self, StepUp> {
        if self.acr_among(accepted.iter().copied()) {
            Ok(self)
        } else {
            Err(StepUp {
                max_age: None,
                acr_values: Some(accepted.join(" ")),
            })
        }
    }
}

impl StepUp {
    /// The `WWW-Authenticate` challenge of RFC 9470 section 3.
    pub fn challenge(&self) -> HeaderValue {
        let mut challenge = String::from(
            "Bearer error=\"insufficient_user_authentication\", \
             error_description=\"A more recent or stronger sign-in is required\"",
        );
        if let Some(max_age) = self.max_age {
            challenge.push_str(&format!(", max_age={max_age}"));
        }
        if let Some(acr_values) = &self.acr_values {
            // Class names are the app's own; anything a header could not carry is left out.
            let plain: String = acr_values
                .chars()
                .filter(|c| c.is_ascii_graphic() && *c != '"' && *c != '\\' || *c == ' ')
                .collect();
            challenge.push_str(&format!(", acr_values=\"{plain}\""));
        }
        HeaderValue::from_str(&challenge).unwrap_or(HeaderValue::from_static(
            "Bearer error=\"insufficient_user_authentication\"",
        ))
    }

    fn message(&self) -> String {
        match self.max_age {
            Some(max_age) => format!(
                "Please sign in again to go on: this needs a sign-in within the last {}.",
                plain_duration(max_age)
            ),
            None => "Please sign in again to go on: this needs a stronger sign-in.".to_owned(),
        }
    }
}

/// `seconds` as a person reads them.
fn plain_duration(seconds: u64) -> String {
    match seconds {
        0..=119 => format!("{seconds} seconds"),
        120..=7199 => format!("{} minutes", seconds / 60),
        _ => format!("{} hours", seconds / 3600),
    }
}

impl IntoResponse for StepUp {
    fn into_response(self) -> Response {
        let challenge = self.challenge();
        (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, challenge)],
            self.message(),
        )
            .into_response()
    }
}

/// In a server function: the answer carries the challenge too.
impl From<StepUp> for AuthError {
    fn from(step_up: StepUp) -> Self {
        if let Some(response) = use_context::<ResponseOptions>() {
            response.insert_header(header::WWW_AUTHENTICATE, step_up.challenge());
        }
        AuthError::FreshLoginNeeded(step_up.message())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn signed_in(claims: serde_json::Value) -> User {
        let serde_json::Value::Object(claims) = claims else {
            panic!("claims are an object")
        };
        User::signed_in(claims, None)
    }

    fn ago(seconds: i64) -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp() - seconds
    }

    #[test]
    fn a_recent_sign_in_goes_on_and_an_old_or_unknown_one_is_asked_to_sign_in_again() {
        let five_minutes = Duration::from_secs(300);
        let recent = signed_in(json!({"sub": "ada", "auth_time": ago(10)}));
        assert!(recent.signed_in_within(five_minutes).is_ok());
        for user in [
            signed_in(json!({"sub": "ada", "auth_time": ago(3600)})),
            signed_in(json!({"sub": "ada"})),
        ] {
            let refusal = user.signed_in_within(five_minutes).expect_err("too old");
            assert_eq!(
                refusal.challenge(),
                "Bearer error=\"insufficient_user_authentication\", error_description=\"A more \
                 recent or stronger sign-in is required\", max_age=300"
            );
            assert!(refusal.message().contains("within the last 5 minutes"));
        }
    }

    #[test]
    fn only_an_accepted_class_goes_on() {
        let user = signed_in(json!({"sub": "ada", "acr": "pwd"}));
        assert!(user.clone().with_acr(&["pwd", "mfa"]).is_ok());
        let refusal = user.with_acr(&["mfa", "phrh"]).expect_err("too weak");
        assert!(
            refusal
                .challenge()
                .to_str()
                .is_ok_and(|challenge| challenge.ends_with(", acr_values=\"mfa phrh\"")),
            "{:?}",
            refusal.challenge()
        );
        let odd = signed_in(json!({"sub": "ada"}))
            .with_acr(&["a\"b\r\n"])
            .expect_err("none");
        assert!(
            odd.challenge()
                .to_str()
                .is_ok_and(|c| c.ends_with("acr_values=\"ab\""))
        );
    }

    #[tokio::test]
    async fn a_handler_answers_401_with_the_challenge() {
        let response = StepUp {
            max_age: Some(60),
            acr_values: None,
        }
        .into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(
            response.headers()[header::WWW_AUTHENTICATE]
                .to_str()
                .is_ok_and(
                    |challenge| challenge.contains("insufficient_user_authentication")
                        && challenge.ends_with("max_age=60")
                )
        );
    }
}
