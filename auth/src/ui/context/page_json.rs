//! The page's sign-in data crosses from server to browser as JSON text. The browser reads it
//! with its own `JSON.parse`, not with serde_json, so the bundle carries no JSON parser (nor
//! serde's number formatting) for it: that is most of what sign-in would otherwise add to an
//! app's wasm.
//!
//! What this costs: a number claim the server holds as a float with no fraction (`1.0`)
//! arrives as the integer `1`, and an integer beyond 2^53 as the nearest float, as in
//! JavaScript itself. Both are rare in ID tokens (`sub` is a string).
use js_sys::{Array, JSON, Object, Reflect};
use serde_json::{Map, Number, Value};
use wasm_bindgen::{JsCast, JsValue};

use super::PageAuth;
use crate::User;

/// The largest integer a JavaScript number holds exactly.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// `PageAuth` from the JSON the server wrote (its `Display`); `None` if it is not that.
pub(super) fn parse(text: &str) -> Option<PageAuth> {
    let page = JSON::parse(text).ok()?;
    let user = field(&page, "user")?;
    let Value::Object(claims) = value(&field(&user, "claims")?) else {
        return None;
    };
    Some(PageAuth {
        user: User::signed_in(claims, field(&user, "provider")?.as_string()),
        dev_provider: field(&page, "dev_provider")?.as_bool()?,
    })
}

fn field(object: &JsValue, name: &str) -> Option<JsValue> {
    Reflect::get(object, &JsValue::from_str(name)).ok()
}

fn value(js: &JsValue) -> Value {
    if let Some(text) = js.as_string() {
        Value::String(text)
    } else if let Some(flag) = js.as_bool() {
        Value::Bool(flag)
    } else if let Some(number) = js.as_f64() {
        self::number(number)
    } else if Array::is_array(js) {
        Value::Array(Array::from(js).iter().map(|item| value(&item)).collect())
    } else if let Some(object) = js.dyn_ref::<Object>() {
        Value::Object(members(object))
    } else {
        Value::Null
    }
}

/// Integers as integers, so `user.claim::<u64>("auth_time")` works in the browser too.
fn number(number: f64) -> Value {
    if number.fract() == 0.0 && number.abs() <= MAX_SAFE_INTEGER {
        if number < 0.0 {
            Value::Number(Number::from(number as i64))
        } else {
            Value::Number(Number::from(number as u64))
        }
    } else {
        Number::from_f64(number).map_or(Value::Null, Value::Number)
    }
}

// Inserted one by one: `collect()` would bring a sort into the bundle.
fn members(object: &Object) -> Map<String, Value> {
    let mut members = Map::new();
    for entry in Object::entries(object).iter() {
        let entry = Array::from(&entry);
        if let Some(name) = entry.get(0).as_string() {
            members.insert(name, value(&entry.get(1)));
        }
    }
    members
}
