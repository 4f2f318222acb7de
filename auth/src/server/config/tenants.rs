//! The `tenants` key: a multi-tenant provider (Microsoft Entra ID's `common` or
//! `organizations` metadata) names its issuer as a template,
//! `https://login.microsoftonline.com/{tenantid}/v2.0`, and each token the issuer of the
//! user's own tenant (its `tid` claim). Such a provider is accepted only with `tenants` set:
//! which tenants may sign in (`"any"`, or a list of tenant ids).
use toml::{Table, Value};
use url::Url;

use super::{ConfigError, Reader};

/// The longest tenant id accepted (Entra's are GUIDs, 36 characters).
pub const MAX_TENANT_ID_CHARS: usize = 64;

/// Which tenants of a multi-tenant provider may sign in (`tenants`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tenants {
    /// `"any"`: every tenant the provider signs tokens for.
    Any,
    /// Only these tenant ids (lower-cased; compared without regard to case).
    Only(Vec<String>),
}

impl Tenants {
    /// Whether tenant `tid` may sign in.
    pub fn allows(&self, tid: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Only(ids) => ids.iter().any(|id| id.eq_ignore_ascii_case(tid)),
        }
    }
}

/// Whether `tid` is a tenant id this crate accepts: 1 to [`MAX_TENANT_ID_CHARS`] ASCII letters,
/// digits, `-` and `_`, so that it fills one path segment of the issuer and nothing else.
pub fn is_tenant_id(tid: &str) -> bool {
    !tid.is_empty()
        && tid.len() <= MAX_TENANT_ID_CHARS
        && tid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Reader {
    /// `tenants` of `table` (a provider's own, or `[auth]`), as `path.tenants` in errors;
    /// `issuer` is the provider's (from `server_metadata_url`), whose path must have a
    /// segment the tenant id can take (`common`, `organizations`, …).
    pub(super) fn tenants(
        &self,
        table: &Table,
        path: &str,
        issuer: &str,
    ) -> Result<Option<Tenants>, ConfigError> {
        let key = format!("{path}.tenants");
        let tenants = match table.get("tenants") {
            None => return Ok(None),
            Some(Value::String(any)) if any == "any" => Tenants::Any,
            Some(Value::Array(ids)) if !ids.is_empty() => Tenants::Only(
                ids.iter()
                    .enumerate()
                    .map(|(index, id)| match id.as_str() {
                        Some(id) if is_tenant_id(id) => Ok(id.to_ascii_lowercase()),
                        _ => Err(self.error(
                            format!("{key}[{index}]"),
                            format!(
                                "must be a tenant id (the directory's id, a GUID: letters, \
                                 digits, '-' and '_', at most {MAX_TENANT_ID_CHARS})"
                            ),
                        )),
                    })
                    .collect::<Result<_, _>>()?,
            ),
            Some(_) => {
                return Err(self.error(
                    key,
                    "must be \"any\" (every tenant the provider signs for) or a non-empty list \
                     of tenant ids, e.g. [\"72f988bf-86f1-41af-91ab-2d7cd011db47\"]",
                ));
            }
        };
        let has_segment = Url::parse(issuer).ok().is_some_and(|url| {
            url.path_segments()
                .is_some_and(|mut segments| segments.any(|segment| !segment.is_empty()))
        });
        if !has_segment {
            return Err(self.error(
                key,
                "is for a multi-tenant provider, whose server_metadata_url has a path segment \
                 the tenant takes, like https://login.microsoftonline.com/organizations/v2.0/\
                 .well-known/openid-configuration",
            ));
        }
        Ok(Some(tenants))
    }
}
