//! Log lines that outsiders cannot forge or flood: control characters escaped, fields from
//! outside cut short, and refusals of anonymous traffic rate-limited per kind.
use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

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
}
