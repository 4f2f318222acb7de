//! Log lines that outsiders cannot forge or flood: control characters escaped, fields from
//! outside cut short, and refusals of anonymous traffic rate-limited per kind; and the few
//! lines a developer must see even in an app that installs no `tracing` subscriber.
use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

/// Logs a line a developer needs to get sign-in working (which provider, where sessions are
/// kept, why a sign-in failed) at `info` or `warn`, and in a debug build with nobody to hear
/// it also writes it to stderr: an app made from start-axum installs no subscriber, and
/// these lines must not vanish there. Never give it tokens, secrets or cookie contents.
macro_rules! tell_developer {
    ($level:ident, $($format:tt)+) => {{
        let line = format!($($format)+);
        tracing::$level!("{line}");
        $crate::server::log::to_stderr_if_unheard(stringify!($level), &line);
    }};
}
pub(crate) use tell_developer;

/// Whether a `tracing` event would reach no subscriber: none installed globally, none set
/// for this thread (as tests set theirs).
fn unheard() -> bool {
    tracing::dispatcher::get_default(|dispatch| dispatch.is::<tracing::subscriber::NoSubscriber>())
}

/// Writes `line` to stderr in the shape `tracing_subscriber::fmt` gives it, when nobody
/// heard the event in a debug build (a release build's log is the operator's to set up).
pub(crate) fn to_stderr_if_unheard(level: &str, line: &str) {
    if let Some(line) = stderr_line(cfg!(debug_assertions), unheard(), level, line) {
        eprintln!("{line}");
    }
}

fn stderr_line(debug_build: bool, unheard: bool, level: &str, line: &str) -> Option<String> {
    (debug_build && unheard).then(|| {
        format!(
            "{:>5} {}: {line}",
            level.to_ascii_uppercase(),
            env!("CARGO_CRATE_NAME")
        )
    })
}

/// At most this many characters of a field that came from outside (a query, a provider's
/// `error_description`) reach the log.
pub(crate) const MAX_FIELD_CHARS: usize = 256;

/// `text` on one line, with control characters escaped (`\n`, `\r`, …), so that what a
/// provider or a query says cannot start a log line of its own.
pub(crate) fn one_line(text: &str) -> String {
    let mut line = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            line.extend(c.escape_default());
        } else {
            line.push(c);
        }
    }
    line
}

/// [`one_line`], cut to [`MAX_FIELD_CHARS`] characters with a note of how long it was.
pub(crate) fn outside_field(text: &str) -> String {
    match clip(text, MAX_FIELD_CHARS) {
        Some(start) => format!("{}… ({} bytes in all)", one_line(start), text.len()),
        None => one_line(text),
    }
}

/// The first `max_chars` characters of `text`, if it has more.
pub(crate) fn clip(text: &str, max_chars: usize) -> Option<&str> {
    text.char_indices()
        .nth(max_chars)
        .map(|(end, _)| &text[..end])
}

/// Lets through one line per kind per interval and counts the rest, so that a flood of bad
/// requests writes a few lines, not one each.
pub(crate) struct Throttle {
    interval: Duration,
    kinds: Mutex<HashMap<&'static str, Window>>,
}

struct Window {
    opened: Instant,
    suppressed: u64,
}

impl Throttle {
    pub(crate) fn new(interval: Duration) -> Self {
        Self {
            interval,
            kinds: Mutex::new(HashMap::new()),
        }
    }

    /// `Some(n)` when a line of `kind` may be written now, `n` being how many were held back
    /// since the last one; `None` when this one is to be held back.
    pub(crate) fn admit(&self, kind: &'static str, now: Instant) -> Option<u64> {
        let mut kinds = match self.kinds.lock() {
            Ok(kinds) => kinds,
            Err(poisoned) => poisoned.into_inner(),
        };
        match kinds.get_mut(kind) {
            Some(window) if now.duration_since(window.opened) < self.interval => {
                window.suppressed += 1;
                None
            }
            Some(window) => {
                let suppressed = window.suppressed;
                *window = Window {
                    opened: now,
                    suppressed: 0,
                };
                Some(suppressed)
            }
            None => {
                kinds.insert(
                    kind,
                    Window {
                        opened: now,
                        suppressed: 0,
                    },
                );
                Some(0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_cannot_start_a_line() {
        assert_eq!(one_line("a\nINFO forged\r"), "a\\nINFO forged\\r");
    }

    #[test]
    fn outside_fields_are_cut_short() {
        let long = "x".repeat(60_000);
        let field = outside_field(&long);
        assert!(field.len() < MAX_FIELD_CHARS + 40, "{}", field.len());
        assert!(field.ends_with("(60000 bytes in all)"), "{field}");
        assert_eq!(outside_field("short"), "short");
        // Cut on a character boundary, never inside one.
        assert!(outside_field(&"é".repeat(1000)).starts_with("éé"));
    }

    #[test]
    fn one_line_per_kind_per_interval_with_a_count() {
        let throttle = Throttle::new(Duration::from_secs(10));
        let start = Instant::now();
        assert_eq!(throttle.admit("unknown_state", start), Some(0));
        for _ in 0..99_999 {
            assert_eq!(throttle.admit("unknown_state", start), None);
        }
        // Another kind has its own window.
        assert_eq!(throttle.admit("bad_query", start), Some(0));
        let later = start + Duration::from_secs(11);
        assert_eq!(throttle.admit("unknown_state", later), Some(99_999));
        assert_eq!(throttle.admit("unknown_state", later), None);
    }

    #[test]
    fn stderr_hears_only_what_no_subscriber_did_and_only_in_debug_builds() {
        assert_eq!(
            stderr_line(true, true, "warn", "sign-in failed: why").as_deref(),
            Some(" WARN leptos_login: sign-in failed: why")
        );
        assert_eq!(stderr_line(true, false, "warn", "heard"), None);
        assert_eq!(stderr_line(false, true, "warn", "release"), None);
    }

    /// Set in the child process: how its logging is set up.
    const CHILD: &str = "LEPTOS_LOGIN_LOG_TEST_CHILD";
    const NAME: &str = "server::log::tests::where_sessions_are_kept_reaches_stderr_once";

    /// The child logs what a real start-up logs; the parent reads its stderr.
    #[test]
    fn where_sessions_are_kept_reaches_stderr_once() {
        match std::env::var(CHILD).as_deref() {
            Ok("bare") => return start_up(),
            Ok(_) => {
                let subscriber = tracing_subscriber::fmt()
                    .with_ansi(false)
                    .with_writer(std::io::stderr)
                    .finish();
                return tracing::subscriber::with_default(subscriber, start_up);
            }
            Err(_) => {}
        }
        for setup in ["bare", "subscribed"] {
            let exe = std::env::current_exe().expect("this test binary");
            let child = std::process::Command::new(exe)
                .args([NAME, "--exact", "--nocapture", "--test-threads=1"])
                .env(CHILD, setup)
                .output()
                .expect("the child runs");
            let stderr = String::from_utf8_lossy(&child.stderr);
            assert!(child.status.success(), "{setup}: {stderr}");
            assert_eq!(
                stderr
                    .matches("sessions are kept in this process's memory")
                    .count(),
                1,
                "{setup}: {stderr}"
            );
        }
    }

    fn start_up() {
        let config = crate::server::config::SessionConfig {
            store: crate::server::config::StoreConfig::Memory,
            ..Default::default()
        };
        crate::server::session::Sessions::new(&config).expect("a memory store");
    }
}
