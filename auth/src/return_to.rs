//! Where a visitor goes after signing in: a path on this site, never anywhere else.
#[cfg(feature = "ssr")]
use url::Url;

/// `candidate` if it is plainly a path on this site, for redirects made in the browser too
/// (where the server's URL parser is not at hand): it starts with one `/`, and holds no `\`,
/// no whitespace and no control character that a browser might read as something else.
pub fn local_path(candidate: &str) -> Option<&str> {
    let plain = candidate.starts_with('/')
        && !candidate.starts_with("//")
        && !candidate
            .chars()
            .any(|c| c == '\\' || c.is_whitespace() || c.is_control());
    plain.then_some(candidate)
}

/// `candidate` as a path (with query) on `origin`'s site, or `None` if it would leave it.
///
/// The browser is the judge of what a URL means, so the candidate is resolved the way a
/// browser would (the `url` crate follows the WHATWG URL standard: `\` is `/`, tabs and
/// newlines vanish) and kept only if it stays on the same origin.
#[cfg(feature = "ssr")]
pub fn same_site_path(candidate: &str, origin: &Url) -> Option<String> {
    if !candidate.starts_with('/') || candidate.chars().any(char::is_control) {
        return None;
    }
    let resolved = origin.join(candidate).ok()?;
    if resolved.origin() != origin.origin() {
        return None;
    }
    let mut path = resolved.path().to_owned();
    // A path that a browser could read as protocol-relative (`//host`) is never ours to emit.
    if path.starts_with("//") {
        return None;
    }
    if let Some(query) = resolved.query() {
        path.push('?');
        // The URL standard leaves `\` as it is in a query: encode it, so that whatever reads
        // the path later cannot take it for a `/`.
        path.push_str(&query.replace('\\', "%5C"));
    }
    Some(path)
}

/// The path of a `Referer` header, if it points into this site.
#[cfg(feature = "ssr")]
pub fn referer_path(referer: &str, origin: &Url) -> Option<String> {
    let url = Url::parse(referer).ok()?;
    if url.origin() != origin.origin() {
        return None;
    }
    let path_and_query = &url[url::Position::BeforePath..url::Position::AfterQuery];
    same_site_path(path_and_query, origin)
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn local_paths_are_plain_paths_only() {
        for good in ["/", "/private?next=%2F", "/a/b#c"] {
            assert_eq!(local_path(good), Some(good));
            assert!(same_site_path(good, &origin()).is_some(), "{good:?}");
        }
        for hostile in [
            "//evil.example",
            "/\\evil.example",
            "\\/evil.example",
            "/\t/evil.example",
            "https://evil.example",
            "javascript:alert(1)",
            "",
            " /x",
        ] {
            assert_eq!(local_path(hostile), None, "{hostile:?}");
        }
    }

    fn origin() -> Url {
        Url::parse("http://app.example:3000/oauth2callback").expect("test origin")
    }

    #[test]
    fn keeps_paths_on_this_site() {
        assert_eq!(same_site_path("/", &origin()).as_deref(), Some("/"));
        assert_eq!(
            same_site_path("/private?tab=2", &origin()).as_deref(),
            Some("/private?tab=2")
        );
        assert_eq!(
            same_site_path("/a/../b#frag", &origin()).as_deref(),
            Some("/b")
        );
    }

    #[test]
    fn refuses_every_way_off_site() {
        for hostile in [
            "https://evil.example",
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\/evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "http:evil.example",
            "javascript:alert(1)",
            "evil.example",
            "",
            " /x",
        ] {
            assert_eq!(
                same_site_path(hostile, &origin()),
                None,
                "{hostile:?} must be refused"
            );
        }
    }

    #[test]
    fn encoded_slashes_stay_a_path_here() {
        // `%2F` is not a separator to a browser: it stays a path segment on this site.
        let path = same_site_path("/%2F%2Fevil.example", &origin());
        assert_eq!(path.as_deref(), Some("/%2F%2Fevil.example"));
        let path = same_site_path("/%5Cevil.example", &origin());
        assert_eq!(path.as_deref(), Some("/%5Cevil.example"));
    }

    #[test]
    fn backslashes_in_the_query_are_encoded() {
        assert_eq!(same_site_path("/?\\", &origin()).as_deref(), Some("/?%5C"));
        assert_eq!(
            same_site_path("/x?next=\\\\evil.example", &origin()).as_deref(),
            Some("/x?next=%5C%5Cevil.example")
        );
        assert_eq!(
            referer_path("http://app.example:3000/?a=\\b", &origin()).as_deref(),
            Some("/?a=%5Cb")
        );
    }

    #[test]
    fn referer_only_from_this_site() {
        assert_eq!(
            referer_path("http://app.example:3000/claims?x=1", &origin()).as_deref(),
            Some("/claims?x=1")
        );
        assert_eq!(referer_path("http://evil.example/claims", &origin()), None);
        assert_eq!(
            referer_path("https://app.example:3000/claims", &origin()),
            None
        );
        assert_eq!(referer_path("not a url", &origin()), None);
    }
}
