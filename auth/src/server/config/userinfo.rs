//! The `userinfo` key: whether a sign-in also asks the provider's userinfo endpoint, and the
//! `claims` request parameter (OpenID Connect Core 5.5) that may ask for claims only
//! userinfo gives; `claims_refresh_interval`, how often a session without a refresh token
//! reads userinfo again.
use std::collections::BTreeMap;

use toml::{Table, Value};

use super::{ConfigError, Reader};

/// When the callback asks the provider's userinfo endpoint, after the code exchange.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Userinfo {
    /// Only when it adds something: the ID token lacks a claim the scopes promise, or one
    /// that `client_kwargs.claims` asks of userinfo.
    #[default]
    Auto,
    /// At every sign-in.
    Always,
    /// Never at sign-in: the ID token's claims only (`leptos_login::userinfo()` still asks).
    Never,
}

impl Reader {
    /// `userinfo` of `table` (a provider's own, or `[auth]`), as `path.userinfo` in errors.
    pub(super) fn userinfo(&self, table: &Table, path: &str) -> Result<Userinfo, ConfigError> {
        match table.get("userinfo") {
            None => Ok(Userinfo::default()),
            Some(Value::String(text)) if text == "auto" => Ok(Userinfo::Auto),
            Some(Value::String(text)) if text == "always" => Ok(Userinfo::Always),
            Some(Value::String(text)) if text == "never" => Ok(Userinfo::Never),
            Some(_) => Err(self.error(
                format!("{path}.userinfo"),
                "must be \"auto\" (ask userinfo only when the ID token lacks a claim the scopes \
                 promise), \"always\" or \"never\"",
            )),
        }
    }

    /// `claims_refresh_interval` of `table`, as `path.claims_refresh_interval` in errors: a
    /// duration ("15m", or seconds as a number) of at least one second; `None` when absent.
    pub(super) fn claims_refresh_interval(
        &self,
        table: &Table,
        path: &str,
    ) -> Result<Option<std::time::Duration>, ConfigError> {
        let interval = match table.get("claims_refresh_interval") {
            None => return Ok(None),
            Some(Value::Integer(seconds)) => u64::try_from(*seconds)
                .ok()
                .map(std::time::Duration::from_secs),
            Some(Value::String(text)) => super::session::parse_duration(text),
            Some(_) => None,
        };
        match interval {
            Some(interval) if interval >= std::time::Duration::from_secs(1) => Ok(Some(interval)),
            _ => Err(self.error(
                format!("{path}.claims_refresh_interval"),
                "must be at least one second: a number of seconds, or a string like \"90s\", \
                 \"15m\" or \"12h\"",
            )),
        }
    }

    /// `client_kwargs.claims`, when given, must be the JSON object the provider expects:
    /// the callback reads its `userinfo` member to know what the ID token may lack.
    pub(super) fn claims_request(
        &self,
        auth_params: &BTreeMap<String, String>,
        path: &str,
    ) -> Result<(), ConfigError> {
        let Some(text) = auth_params.get("claims") else {
            return Ok(());
        };
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(_)) => Ok(()),
            _ => Err(self.error(
                format!("{path}.client_kwargs.claims"),
                "must be a JSON object, e.g. '{\"userinfo\": {\"groups\": null}}' \
                 (OpenID Connect Core 5.5)",
            )),
        }
    }
}
