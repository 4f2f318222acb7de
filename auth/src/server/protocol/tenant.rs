//! Multi-tenant issuers (`tenants`): the discovery document names the issuer as a template,
//! `https://login.microsoftonline.com/{tenantid}/v2.0`, and each token (ID token, logout
//! token) names as `iss` the template with its own `tid`. Everything else about a token is
//! checked as for any provider; this module only replaces the exact issuer comparison.
use serde_json::Value;

use crate::server::config::{Tenants, is_tenant_id};

/// What a templated issuer holds where the tenant id goes.
pub const TENANT_PLACEHOLDER: &str = "{tenantid}";

/// A multi-tenant provider's issuer template, as its discovery document names it, with the
/// tenants that may sign in.
#[derive(Clone, Debug)]
pub(crate) struct IssuerTemplate {
    /// The template up to `{tenantid}`, and after it.
    prefix: String,
    suffix: String,
    tenants: Tenants,
}

/// Why a token's issuer was refused. The `Display` text is for the log: it quotes only a
/// tenant id already checked to be plain letters, digits, `-` and `_`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TenantRefusal {
    #[error("it has no tid claim (its tenant), which a multi-tenant provider's tokens carry")]
    NoTenant,
    #[error("its tid claim is not a tenant id (letters, digits, '-' and '_')")]
    BadTenant,
    #[error("its iss is not the issuer of its own tenant (tid {0})")]
    IssuerNotTenants(String),
    #[error("tenant {0} is not among the provider's tenants")]
    TenantNotAllowed(String),
}

impl IssuerTemplate {
    /// The template `discovered` (the discovery document's `issuer`) if it is `configured`
    /// (`server_metadata_url` without the discovery suffix) with exactly one path segment
    /// replaced by `{tenantid}`: same scheme, host, port and every other character.
    pub(crate) fn of(configured: &str, discovered: &str, tenants: &Tenants) -> Option<Self> {
        let (prefix, suffix) = discovered.split_once(TENANT_PLACEHOLDER)?;
        if suffix.contains(TENANT_PLACEHOLDER)
            || !prefix.ends_with('/')
            || !(suffix.is_empty() || suffix.starts_with('/'))
        {
            return None;
        }
        let segment = configured.strip_prefix(prefix)?.strip_suffix(suffix)?;
        // The configured issuer's segment there (`common`, `organizations`, …): one segment.
        if segment.is_empty() || segment.contains('/') {
            return None;
        }
        // The origin is the configured one: the prefix holds `scheme://host[:port]/`.
        let origin_end = prefix.find("://")? + 3;
        if !prefix[origin_end..].contains('/') {
            return None;
        }
        Some(Self {
            prefix: prefix.to_owned(),
            suffix: suffix.to_owned(),
            tenants: tenants.clone(),
        })
    }

    /// The issuer of tenant `tid`.
    fn issuer_of(&self, tid: &str) -> String {
        format!("{}{tid}{}", self.prefix, self.suffix)
    }

    /// Whether `iss` (a callback's `iss` parameter, RFC 9207) is the issuer of a tenant that
    /// may sign in.
    pub(crate) fn admits_issuer(&self, iss: &str) -> bool {
        iss.strip_prefix(self.prefix.as_str())
            .and_then(|rest| rest.strip_suffix(self.suffix.as_str()))
            .is_some_and(|tid| is_tenant_id(tid) && self.tenants.allows(tid))
    }

    /// Checks a verified token's `iss` against the template with the token's own `tid`
    /// (present, a plain tenant id, and allowed). Returns the tenant.
    pub(crate) fn check(&self, iss: &str, tid: Option<&Value>) -> Result<String, TenantRefusal> {
        let tid = match tid {
            None | Some(Value::Null) => return Err(TenantRefusal::NoTenant),
            Some(Value::String(tid)) if is_tenant_id(tid) => tid,
            Some(_) => return Err(TenantRefusal::BadTenant),
        };
        if iss != self.issuer_of(tid) {
            return Err(TenantRefusal::IssuerNotTenants(tid.clone()));
        }
        if !self.tenants.allows(tid) {
            return Err(TenantRefusal::TenantNotAllowed(tid.clone()));
        }
        Ok(tid.clone())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const CONFIGURED: &str = "https://login.microsoftonline.com/common/v2.0";
    const TEMPLATE: &str = "https://login.microsoftonline.com/{tenantid}/v2.0";
    const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

    fn template(tenants: Tenants) -> IssuerTemplate {
        IssuerTemplate::of(CONFIGURED, TEMPLATE, &tenants).expect("a template of the configured")
    }

    fn issuer(tid: &str) -> String {
        format!("https://login.microsoftonline.com/{tid}/v2.0")
    }

    #[test]
    fn the_template_must_be_the_configured_issuer_with_one_segment_for_the_tenant() {
        let any = Tenants::Any;
        for (configured, discovered) in [
            (CONFIGURED, "https://evil.example/{tenantid}/v2.0"),
            (
                CONFIGURED,
                "https://login.microsoftonline.com/{tenantid}/v2.1",
            ),
            (
                CONFIGURED,
                "https://login.microsoftonline.com/{tenantid}/{tenantid}",
            ),
            (
                CONFIGURED,
                "https://login.microsoftonline.com/x{tenantid}/v2.0",
            ),
            (
                CONFIGURED,
                "https://login.microsoftonline.com/{tenantid}x/v2.0",
            ),
            (
                CONFIGURED,
                "https://login.microsoftonline.com/v2.0/{tenantid}",
            ),
            (CONFIGURED, CONFIGURED),
            (
                "https://op.example/a/b/v2.0",
                "https://op.example/{tenantid}/v2.0",
            ),
            ("https://op.example", "https://{tenantid}"),
        ] {
            assert!(
                IssuerTemplate::of(configured, discovered, &any).is_none(),
                "{configured} / {discovered}"
            );
        }
        assert!(IssuerTemplate::of(CONFIGURED, TEMPLATE, &any).is_some());
        assert!(
            IssuerTemplate::of(
                "https://op.example/common",
                "https://op.example/{tenantid}",
                &any
            )
            .is_some()
        );
    }

    #[test]
    fn a_token_names_the_issuer_of_its_own_tenant() {
        let any = template(Tenants::Any);
        let iss = issuer(TENANT);
        assert_eq!(any.check(&iss, Some(&json!(TENANT))), Ok(TENANT.to_owned()));
        let other = "9188040d-6c67-4c5b-b112-36a304b66dad";
        assert_eq!(
            any.check(&iss, Some(&json!(other))),
            Err(TenantRefusal::IssuerNotTenants(other.to_owned()))
        );
        assert_eq!(any.check(&iss, None), Err(TenantRefusal::NoTenant));
        assert_eq!(
            any.check(&iss, Some(&Value::Null)),
            Err(TenantRefusal::NoTenant)
        );
        for bad in [
            json!(""),
            json!("a/b"),
            json!("../x"),
            json!(7),
            json!([TENANT]),
        ] {
            assert_eq!(
                any.check(&iss, Some(&bad)),
                Err(TenantRefusal::BadTenant),
                "{bad}"
            );
        }
        // Exactly: no trailing slash, no other case, no template itself.
        for iss in [format!("{iss}/"), iss.to_uppercase(), TEMPLATE.to_owned()] {
            assert!(any.check(&iss, Some(&json!(TENANT))).is_err(), "{iss}");
        }
    }

    #[test]
    fn an_allow_list_admits_its_tenants_only() {
        let listed = template(Tenants::Only(vec![TENANT.to_owned()]));
        let other = "9188040d-6c67-4c5b-b112-36a304b66dad";
        assert!(listed.check(&issuer(TENANT), Some(&json!(TENANT))).is_ok());
        assert_eq!(
            listed.check(&issuer(other), Some(&json!(other))),
            Err(TenantRefusal::TenantNotAllowed(other.to_owned()))
        );
        assert!(listed.admits_issuer(&issuer(TENANT)));
        assert!(!listed.admits_issuer(&issuer(other)));
        assert!(!listed.admits_issuer(TEMPLATE));
        assert!(!listed.admits_issuer(CONFIGURED));
        assert!(!listed.admits_issuer(&format!("{}/", issuer(TENANT))));
        assert!(template(Tenants::Any).admits_issuer(&issuer(other)));
        assert!(!template(Tenants::Any).admits_issuer(&issuer("a/b")));
    }
}
