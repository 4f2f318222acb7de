//! What "Where you're signed in" shows of one session: shared by the server, which lists the
//! sessions, and the page, which shows them. A plain struct, so the browser bundle of an app
//! that shows the list carries only its fields' decoding.
use serde::{Deserialize, Serialize};

/// One session of the signed-in account, as `ui::sessions()` lists it. Nothing in it
/// lets anyone in: `id` only names the session to `ui::end_session`, for the same
/// account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// The session's public handle: neither the cookie's session id nor the store's key (a
    /// keyed hash of the key), meaningful only to `ui::end_session` of this account.
    pub id: String,
    /// Unix seconds: when it signed in.
    pub began_at: i64,
    /// Unix seconds: its last request, as last written down (with no idle timeout, at most
    /// every few minutes).
    pub last_seen_at: i64,
    /// The `[auth.NAME]` provider it signed in with; `None` for the unnamed one.
    pub provider: Option<String>,
    /// The browser, coarsely, as its User-Agent said at sign-in ("Firefox on Windows",
    /// "Safari on iPhone"); `None` when it said nothing this crate knows. The full string is
    /// never kept, nor the address.
    pub device: Option<String>,
    /// The session of the browser asking.
    pub this_browser: bool,
}
