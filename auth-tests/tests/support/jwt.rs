//! ID tokens as a hostile provider would write them: header and claims are plain JSON the
//! test controls completely; only the signature comes from a key (see `keys.rs`).
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Map, Value};

use super::keys::JwtSigner;

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A JWT being written: `header` starts empty; `sign` fills in `alg` and `kid` from the key
/// unless the test set them (a `null` removes the member).
pub struct Jwt {
    header: Map<String, Value>,
    claims: Value,
}

impl Jwt {
    pub fn new(claims: Value) -> Self {
        Self {
            header: Map::new(),
            claims,
        }
    }

    /// Sets a header member; `Value::Null` leaves it out.
    pub fn header(mut self, name: &str, value: Value) -> Self {
        self.header.insert(name.to_owned(), value);
        self
    }

    pub fn sign(self, key: &dyn JwtSigner) -> String {
        self.sign_with_typ(key, Some("JWT"))
    }

    /// As [`Jwt::sign`], with the `typ` header `typ` instead of `JWT` (`None`: no `typ`).
    pub fn sign_with_typ(self, key: &dyn JwtSigner, typ: Option<&str>) -> String {
        let mut header = self.header;
        header
            .entry("alg")
            .or_insert_with(|| Value::from(key.alg()));
        if let Some(kid) = key.kid() {
            header.entry("kid").or_insert_with(|| Value::from(kid));
        }
        let input = signing_input(header, typ, &self.claims);
        let signature = key.sign(input.as_bytes());
        format!("{input}.{}", b64(signature))
    }

    /// `alg: none` and an empty signature.
    pub fn unsigned(self) -> String {
        let mut header = self.header;
        header.insert("alg".to_owned(), Value::from("none"));
        format!("{}.", signing_input(header, Some("JWT"), &self.claims))
    }
}

fn signing_input(mut header: Map<String, Value>, typ: Option<&str>, claims: &Value) -> String {
    header.retain(|_, value| !value.is_null());
    if let Some(typ) = typ {
        header.insert("typ".to_owned(), Value::from(typ));
    }
    let header = serde_json::to_vec(&header).expect("JSON");
    let claims = serde_json::to_vec(claims).expect("JSON");
    format!("{}.{}", b64(header), b64(claims))
}

/// The same token with its payload replaced (the signature no longer matches).
pub fn with_payload(token: &str, claims: &Value) -> String {
    let mut parts = token.split('.');
    let header = parts.next().expect("a header");
    let _payload = parts.next().expect("a payload");
    let signature = parts.next().expect("a signature");
    let claims = serde_json::to_vec(claims).expect("JSON");
    format!("{header}.{}.{signature}", b64(claims))
}

/// `claims` without the claim `name`.
pub fn without(mut claims: Value, name: &str) -> Value {
    claims
        .as_object_mut()
        .expect("claims are an object")
        .remove(name);
    claims
}

/// `claims` with the claim `name` set to `value`.
pub fn with(mut claims: Value, name: &str, value: Value) -> Value {
    claims[name] = value;
    claims
}
