//! The crate's modules import downward only: each module of `auth/src` uses only those
//! below it in [`LAYERS`], so there is no circle and a newcomer can read the crate from the
//! bottom up. Read from the source, as text: every `crate::` and `super::` path (through the
//! `pub use`s of the modules it passes, so `crate::Auth` counts as `server::auth`), tests
//! left out. A file belongs to the longest entry of [`LAYERS`] its module path starts with.
//! `make lint` runs it.
use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

/// Top to bottom, as the crate docs (lib.rs, "How it is built") tell it: the root; the
/// Leptos side; the server's HTTP layer, acts, `Auth`, sessions and their stores, the
/// development provider, sealing, the protocol, configuration and what the server shares;
/// then the types both sides share.
const LAYERS: &[&str] = &[
    "lib",
    "ui",
    "ui::guards",
    "ui::components",
    "ui::server_fns",
    "ui::context",
    "server",
    "server::http",
    "server::http::install",
    "server::http::routes",
    "server::http::middleware",
    "server::acts",
    "server::acts::login",
    "server::acts::logout",
    "server::acts::tokens",
    "server::acts::visitor",
    "server::acts::claims",
    "server::auth",
    "server::auth::dev_slot",
    "server::auth::hooks",
    "server::session",
    "server::session::store",
    "server::dev_idp",
    "server::sealing",
    "server::protocol",
    "server::config",
    "server::body",
    "server::html",
    "server::log",
    "login_params",
    "return_to",
    "session_info",
    "error",
    "user",
];

/// Files that are tests, whatever their module.
fn is_test_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or_default();
    name == "tests.rs"
        || name == "test_support.rs"
        || path.components().any(|part| part.as_os_str() == "tests")
        || path.ends_with("middleware/statuses.rs")
}

/// `text` without its test modules: a `mod` under `#[cfg(test)]` or `#[cfg(all(test, …))]`,
/// whether `mod tests;` or `mod tests { … }`.
fn without_tests(text: &str) -> String {
    let mut kept = String::new();
    let mut lines = text.split_inclusive('\n').peekable();
    while let Some(line) = lines.next() {
        let is_test_gate = line.trim_start().starts_with("#[cfg(") && line.contains("test");
        let gates_a_mod = lines
            .peek()
            .is_some_and(|next| next.trim_start().starts_with("mod "));
        if !(is_test_gate && gates_a_mod) {
            kept.push_str(line);
            continue;
        }
        let Some(module) = lines.next() else { break };
        if module.trim_end().ends_with(';') {
            continue;
        }
        // `mod tests {`: skip to its closing brace.
        let mut depth = brace_balance(module);
        while depth > 0 {
            let Some(inner) = lines.next() else { break };
            depth += brace_balance(inner);
        }
    }
    kept
}

fn brace_balance(line: &str) -> i32 {
    line.chars().fold(0, |depth, c| match c {
        '{' => depth + 1,
        '}' => depth - 1,
        _ => depth,
    })
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("a folder of the crate") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

/// The module path a file of `src` holds: `server/http/install.rs` is `server::http::install`,
/// `ui/mod.rs` is `ui`, `lib.rs` is `lib`.
fn module_path(src: &Path, path: &Path) -> Vec<String> {
    let relative = path.strip_prefix(src).expect("under src");
    let mut parts: Vec<String> = relative
        .components()
        .map(|part| {
            part.as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_owned()
        })
        .collect();
    if parts.last().is_some_and(|last| last == "mod") || parts == ["lib"] {
        parts.pop();
    }
    parts
}

/// The layer a module path belongs to: the longest entry of [`LAYERS`] it starts with.
fn layer_of(path: &[String]) -> Option<usize> {
    if path.is_empty() {
        return Some(0);
    }
    (1..=path.len()).rev().find_map(|len| {
        let prefix = path[..len].join("::");
        LAYERS.iter().position(|layer| *layer == prefix)
    })
}

/// What each module re-exports (`pub use`, `pub(crate) use`): the module path and name
/// under which it is reached, to the path it stands for.
type Reexports = BTreeMap<Vec<String>, Vec<String>>;

fn reexports_of(module: &[String], text: &str, into: &mut Reexports) {
    let mut rest = text;
    let next = |text: &str| {
        ["pub use ", "pub(crate) use "]
            .into_iter()
            .filter_map(|head| text.find(head).map(|at| (at, head.len())))
            .min()
    };
    while let Some((at, skip)) = next(rest) {
        rest = &rest[at + skip..];
        let end = rest.find(';').unwrap_or(rest.len());
        for (path, name) in expand(&rest[..end]) {
            let mut under = module.to_vec();
            under.push(name);
            into.insert(under, absolute(module, &path));
        }
        rest = &rest[end..];
    }
}

/// A use tree as written (`a::{b::C, D as E}`) as its paths, each with the name it binds.
fn expand(tree: &str) -> Vec<(Vec<String>, String)> {
    let tree = tree.trim();
    let (head, group) = match tree.find('{') {
        Some(open) => (
            &tree[..open],
            Some(&tree[open + 1..open + 1 + matching_brace(&tree[open + 1..])]),
        ),
        None => (tree, None),
    };
    let prefix: Vec<String> = head
        .split("::")
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(str::to_owned)
        .collect();
    match group {
        Some(group) => top_level_items(group)
            .into_iter()
            .filter(|item| !item.trim().is_empty())
            .flat_map(expand)
            .map(|(path, name)| ([prefix.clone(), path].concat(), name))
            .collect(),
        None => {
            let (path, alias) = match tree.split_once(" as ") {
                Some((path, alias)) => (path, Some(alias.trim().to_owned())),
                None => (tree, None),
            };
            let path: Vec<String> = path
                .split("::")
                .map(|part| part.trim().to_owned())
                .collect();
            let name = alias.unwrap_or_else(|| path.last().cloned().unwrap_or_default());
            if name == "self" {
                let name = path[..path.len() - 1].last().cloned().unwrap_or_default();
                vec![(path[..path.len() - 1].to_vec(), name)]
            } else {
                vec![(path, name)]
            }
        }
    }
}

/// A path written in `module` as one from the crate's root: `crate::` and `super::` read as
/// Rust reads them, anything else as a child of `module`.
fn absolute(module: &[String], path: &[String]) -> Vec<String> {
    let mut base = module.to_vec();
    let mut parts = path;
    match parts.first().map(String::as_str) {
        Some("crate") => {
            base.clear();
            parts = &parts[1..];
        }
        Some("self") => parts = &parts[1..],
        _ => {}
    }
    while parts.first().is_some_and(|part| part == "super") {
        base.pop();
        parts = &parts[1..];
    }
    [base, parts.to_vec()].concat()
}

/// `path` with every re-export it passes through replaced by what it stands for.
fn resolve(path: Vec<String>, reexports: &Reexports) -> Vec<String> {
    let mut path = path;
    for _ in 0..16 {
        let through = (1..=path.len())
            .rev()
            .find_map(|len| reexports.get(&path[..len]).map(|target| (len, target)));
        let Some((len, target)) = through else { break };
        let next = [target.clone(), path[len..].to_vec()].concat();
        if next == path {
            break;
        }
        path = next;
    }
    path
}

/// The paths a source text reaches through `crate::` or `super::`, from the crate's root.
fn reached(module: &[String], text: &str) -> BTreeSet<Vec<String>> {
    let mut reached = BTreeSet::new();
    let is_path_char = |c: char| c.is_alphanumeric() || c == '_' || c == ':';
    for head in ["crate::", "super::"] {
        for (start, _) in text.match_indices(head) {
            // A path is read once, from its start (`super::super::x`); `$crate::` is a macro's.
            let before = text[..start].chars().next_back();
            if before.is_some_and(|c| is_path_char(c) || c == '$') {
                continue;
            }
            let mut end = text[start..]
                .find(|c: char| !is_path_char(c))
                .map_or(text.len(), |len| start + len);
            if text[end..].starts_with('{') {
                end += 1 + matching_brace(&text[end + 1..]) + 1;
            }
            for (path, _) in expand(text[start..end].trim_end_matches(':')) {
                reached.insert(absolute(module, &path));
            }
        }
    }
    reached
}

fn matching_brace(text: &str) -> usize {
    let mut depth = 0;
    for (index, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return index,
            '}' => depth -= 1,
            _ => {}
        }
    }
    text.len()
}

fn top_level_items(group: &str) -> Vec<&str> {
    let (mut items, mut depth, mut start) = (Vec::new(), 0, 0);
    for (index, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&group[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    items.push(&group[start..]);
    items
}

#[test]
fn imports_point_down_only() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../auth/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.retain(|path| !is_test_file(path));
    let sources: Vec<(Vec<String>, String, String)> = files
        .iter()
        .map(|path| {
            let text = without_tests(&fs::read_to_string(path).expect("a source file"));
            let shown = path
                .strip_prefix(&src)
                .unwrap_or(path)
                .display()
                .to_string();
            (module_path(&src, path), shown, text)
        })
        .collect();
    let mut reexports = Reexports::new();
    for (module, _, text) in &sources {
        reexports_of(module, text, &mut reexports);
    }
    let mut upward = Vec::new();
    for (module, shown, text) in &sources {
        let own = layer_of(module).unwrap_or_else(|| {
            panic!("{shown} is in no layer: add its module to LAYERS in auth-tests/tests/layers.rs")
        });
        for path in reached(module, text) {
            // The root's own items (`store`, `testing`) are for apps, not for the crate.
            let Some(theirs) = layer_of(&resolve(path.clone(), &reexports)).filter(|at| *at > 0)
            else {
                continue;
            };
            if theirs < own {
                upward.push(format!(
                    "{shown} uses {} ({}), which is not below {}",
                    path.join("::"),
                    LAYERS[theirs],
                    LAYERS[own]
                ));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports that run up:\n{}",
        upward.join("\n")
    );
}

#[test]
fn the_check_reads_imports_as_written() {
    let module = |path: &str| path.split("::").map(str::to_owned).collect::<Vec<_>>();
    let text =
        "use crate::{Auth, server::{a::B, c as D}};\nfn f() { super::log::x(); $crate::m!(); }";
    let paths: Vec<String> = reached(&module("server::acts"), text)
        .into_iter()
        .map(|path| path.join("::"))
        .collect();
    assert_eq!(
        paths,
        ["Auth", "server::a::B", "server::c", "server::log::x"]
    );
    let mut reexports = Reexports::new();
    reexports_of(&[], "pub use server::{Auth, Tokens as T};", &mut reexports);
    let server = "pub use auth::Auth;\npub(crate) use acts::{tokens::Tokens};";
    reexports_of(&module("server"), server, &mut reexports);
    assert_eq!(
        resolve(module("Auth"), &reexports),
        module("server::auth::Auth")
    );
    assert_eq!(
        resolve(module("T"), &reexports),
        module("server::acts::tokens::Tokens")
    );
    let backend = layer_of(&module("server::session::store::sqlite"));
    assert_eq!(backend.map(|at| LAYERS[at]), Some("server::session::store"));
    let cut = without_tests(
        "fn a() {}\n#[cfg(test)]\nmod tests;\nuse crate::kept;\n#[cfg(all(test, x))]\n\
         mod more {\n    fn b() {\n        crate::up();\n    }\n}\nfn c() {}\n",
    );
    assert_eq!(cut, "fn a() {}\nuse crate::kept;\nfn c() {}\n");
}

/// The crate docs' read paths (lib.rs, "Four read paths"): each `file.rs` (`name`, …) names
/// a file of `src` that defines each name, so a newcomer who follows them finds the code.
#[test]
fn the_read_paths_name_the_files_that_define_them() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../auth/src");
    let lib = fs::read_to_string(src.join("lib.rs")).expect("lib.rs");
    let paths: String = lib
        .lines()
        .filter_map(|line| line.strip_prefix("//!"))
        .skip_while(|line| !line.contains("Four read paths"))
        .take_while(|line| !line.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let mut checked = 0;
    let mut rest = paths.as_str();
    // `file.rs` (`a`, `b`)
    while let Some(at) = rest.find(".rs` (") {
        let start = rest[..at].rfind('`').expect("a file name in backquotes");
        let file = &rest[start + 1..at + 3];
        let names_end = rest[at..].find(')').expect("a closing parenthesis") + at;
        let names = &rest[at + ".rs` (".len()..names_end];
        let text = fs::read_to_string(src.join(file))
            .unwrap_or_else(|_| panic!("the read paths name {file}, which is not in src/"));
        for name in names.split(',').map(|name| name.trim().trim_matches('`')) {
            let defines = ["fn ", "struct ", "enum ", "trait "]
                .iter()
                .any(|kind| text.contains(&format!("{kind}{name}")));
            assert!(
                defines,
                "the read paths say {file} defines {name}; it does not"
            );
            checked += 1;
        }
        rest = &rest[names_end..];
    }
    assert!(
        checked >= 16,
        "only {checked} names read: is the list still there?"
    );
}

/// The root holds what most apps use and no more (at most 20 names); the rest is in `ui`,
/// `server` and `store`, so a newcomer's first page of docs is short.
#[test]
fn the_root_stays_short() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../auth/src");
    let lib = without_tests(&fs::read_to_string(src.join("lib.rs")).expect("lib.rs"));
    // The root's own `pub use`s, not those of the modules written inside lib.rs.
    let (mut top, mut inside) = (String::new(), false);
    for line in lib.lines() {
        inside |= line.starts_with("pub use ");
        if inside {
            top.push_str(line);
            top.push('\n');
        }
        inside &= !line.ends_with(';');
    }
    let mut names = Reexports::new();
    reexports_of(&[], &top, &mut names);
    let hidden = ["testing"];
    let modules = lib
        .lines()
        .filter_map(|line| line.trim().strip_prefix("pub mod "))
        .map(|rest| rest.trim_end_matches([';', '{', ' ']))
        .filter(|name| !hidden.contains(name))
        .count();
    let count = names.len() + modules;
    assert!(
        count > 10,
        "only {count} names read: is lib.rs still read right?"
    );
    assert!(count <= 20, "{count} names at the root: {:?}", names.keys());
}
