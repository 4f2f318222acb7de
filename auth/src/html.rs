//! The few plain HTML pages sign-in serves outside the app (error pages, the development
//! provider's sign-in page).

/// A whole page around `body` (already HTML); `title` is escaped.
pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title></head>\
         <body style=\"font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem\">\
         {body}</body></html>",
        escape(title)
    )
}

/// `text` made safe to put between tags or inside a quoted attribute.
pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(c),
        }
    }
    escaped
}
