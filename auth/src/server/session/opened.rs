//! The users of the sessions this server has opened lately, by the sealed text they were
//! opened from. A stored session still comes from the store on every request (so one ended
//! elsewhere is ended here at its next request); only the decryption and parsing of a sealed
//! user this server has already opened are not done again. The same sealed text always opens
//! to the same user, and only text that opened is kept, so nothing here can outlive or
//! outrank what the store says.
use std::{collections::HashMap, sync::Mutex};

use crate::User;

/// Sessions remembered at most: about 2 KB each with typical claims, so the server's memory
/// stays flat however many sessions are in use. Full, it starts over, which costs the next
/// requests one decryption each.
const CAPACITY: usize = 1024;

#[derive(Default)]
pub(crate) struct OpenedUsers(Mutex<HashMap<String, (String, User)>>);

impl OpenedUsers {
    /// The user `sealed` (the session under `key`) opens to: remembered, or `open`ed now.
    pub(crate) fn open(
        &self,
        key: &str,
        sealed: &str,
        open: impl FnOnce() -> Option<User>,
    ) -> Option<User> {
        if let Ok(opened) = self.0.lock()
            && let Some((known, user)) = opened.get(key)
            && known == sealed
        {
            return Some(user.clone());
        }
        let user = open()?;
        if let Ok(mut opened) = self.0.lock() {
            if opened.len() >= CAPACITY {
                opened.clear();
            }
            opened.insert(key.to_owned(), (sealed.to_owned(), user.clone()));
        }
        Some(user)
    }

    /// Forgets the session under `key` (ended here: its memory need not wait to be crowded out).
    pub(crate) fn forget(&self, key: &str) {
        if let Ok(mut opened) = self.0.lock() {
            opened.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(name: &str) -> User {
        let serde_json::Value::Object(claims) = serde_json::json!({"sub": name, "name": name})
        else {
            unreachable!()
        };
        User::signed_in(claims, None)
    }

    #[test]
    fn a_sealed_user_is_opened_once_and_other_text_under_the_same_key_is_opened_anew() {
        let opened = OpenedUsers::default();
        let mut opens = 0;
        let mut open = |name: &str| {
            opens += 1;
            Some(named(name))
        };
        assert_eq!(
            opened
                .open("k", "sealed-a", || open("a"))
                .map(|u| u.name().map(str::to_owned)),
            Some(Some("a".to_owned()))
        );
        assert_eq!(
            opened
                .open("k", "sealed-a", || open("never"))
                .and_then(|u| u.sub().map(str::to_owned)),
            Some("a".to_owned())
        );
        // The store now holds other text under the key (claims refreshed): opened anew.
        assert_eq!(
            opened
                .open("k", "sealed-b", || open("b"))
                .and_then(|u| u.sub().map(str::to_owned)),
            Some("b".to_owned())
        );
        // Text that does not open is not remembered.
        assert!(opened.open("j", "forged", || None).is_none());
        assert!(opened.open("j", "forged", || None).is_none());
        opened.forget("k");
        assert_eq!(
            opened
                .open("k", "sealed-b", || open("b"))
                .and_then(|u| u.sub().map(str::to_owned)),
            Some("b".to_owned())
        );
        assert_eq!(opens, 3);
    }
}
