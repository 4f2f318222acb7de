//! A coarse name for the browser a session began in, from its User-Agent: "Chrome on Linux",
//! "Safari on iPhone". Kept instead of the header itself, which is a fingerprint; a handful
//! of substring checks rather than a User-Agent database, since only the family matters.

/// Browsers, first match wins: the engines' shared tokens come last, as every Chromium-based
/// browser also says `Chrome/` and nearly every browser says `Safari/`.
const BROWSERS: &[(&str, &str)] = &[
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("EdgiOS/", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Vivaldi/", "Vivaldi"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chromium/", "Chromium"),
    // Also `HeadlessChrome/`.
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
];

/// Systems, first match wins: iPads and iPhones before the Macs they resemble, Android and
/// ChromeOS before the Linux they run on.
const SYSTEMS: &[(&str, &str)] = &[
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Macintosh", "macOS"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
];

/// The longest User-Agent read: real ones are a few hundred bytes.
const MAX_USER_AGENT: usize = 1024;

/// "BROWSER on SYSTEM" for a User-Agent header, or as much of it as is known; `None` when
/// neither is.
pub fn device_of(user_agent: &str) -> Option<String> {
    let mut end = user_agent.len().min(MAX_USER_AGENT);
    while !user_agent.is_char_boundary(end) {
        end -= 1;
    }
    let user_agent = &user_agent[..end];
    let first = |table: &[(&str, &'static str)]| {
        table
            .iter()
            .find(|(token, _)| user_agent.contains(token))
            .map(|(_, name)| *name)
    };
    // Safari's token alone is no Safari: only with its `Version/`.
    let browser =
        first(BROWSERS).filter(|name| *name != "Safari" || user_agent.contains("Version/"));
    match (browser, first(SYSTEMS)) {
        (Some(browser), Some(system)) => Some(format!("{browser} on {system}")),
        (Some(browser), None) => Some(browser.to_owned()),
        (None, Some(system)) => Some(format!("A browser on {system}")),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::device_of;

    #[test]
    fn browsers_are_named_by_family_and_system() {
        for (user_agent, device) in [
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/124.0.0.0 Safari/537.36",
                "Chrome on Linux",
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 HeadlessChrome/124.0.6367.60 Safari/537.36",
                "Chrome on Linux",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
                "Firefox on Windows",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 \
                 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
                "Safari on iPhone",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, \
                 like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51",
                "Edge on macOS",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like \
                 Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
                "Chrome on Android",
            ),
            (
                "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, \
                 like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
                "Chrome on iPad",
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) SomethingNew/1.0",
                "A browser on Linux",
            ),
        ] {
            assert_eq!(
                device_of(user_agent).as_deref(),
                Some(device),
                "{user_agent}"
            );
        }
        // Neither a browser nor a system this knows: nothing, rather than a guess.
        assert_eq!(device_of("curl/8.5.0"), None);
        assert_eq!(device_of(""), None);
    }

    #[test]
    fn nothing_of_the_header_but_the_names_is_kept() {
        let user_agent = format!("{} Firefox/1 (Windows) serial=12345", "x".repeat(5000));
        // Past the bytes read: not even the browser is taken from so far in.
        assert_eq!(device_of(&user_agent), None);
        // A cut inside a character is no panic.
        assert_eq!(device_of(&"é".repeat(2000)), None);
        let named = device_of("Firefox/125.0 (Windows; serial=12345)");
        assert_eq!(named.as_deref(), Some("Firefox on Windows"));
    }
}
