//! The crate's modules import downward only: each of `auth/src`'s top-level modules uses
//! only those below it in [`LAYERS`], so there is no circle and a newcomer can read the crate
//! from the bottom up. Read from the source, as text: every `crate::NAME` path (and every
//! name a `use crate::{…}` takes from the root, resolved through `lib.rs`'s `pub use`s),
//! tests left out. `make lint` runs it.
use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

/// Top to bottom: the Leptos side (guards, components, the server functions, the page's
/// user), the HTTP layer (install, routes, the request rules), the acts (sign-in, sign-out,
/// tokens), who sent the request, the process's `Auth`, sessions and their stores, the
/// protocol, configuration, and what everything shares.
const LAYERS: &[&str] = &[
    "lib",
    "guards",
    "components",
    "server_fns",
    "context",
    "install",
    "routes",
    "middleware",
    "flow",
    "logout",
    "tokens",
    "visitor",
    "service",
    "dev_slot",
    "hooks",
    "session",
    "dev_idp",
    "cookies",
    "oidc",
    "config",
    "body",
    "html",
    "log",
    "return_to",
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

/// The top-level module a file of `src` belongs to.
fn module_of(src: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(src).expect("under src");
    let first = relative.components().next().expect("a name");
    first
        .as_os_str()
        .to_string_lossy()
        .trim_end_matches(".rs")
        .to_owned()
}

/// What `lib.rs` re-exports at the root, by name: the module each comes from.
fn root_names(lib: &str) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    let mut take = |module: &str, list: &str| {
        for name in list.split(',') {
            let name = name
                .trim()
                .trim_start_matches('{')
                .trim_end_matches('}')
                .trim();
            let name = name.rsplit(" as ").next().unwrap_or(name);
            if !name.is_empty() {
                names.insert(name.to_owned(), module.to_owned());
            }
        }
    };
    let mut in_block = false;
    for line in lib.lines().map(str::trim) {
        if line == "pub use {" {
            in_block = true;
        } else if in_block && line == "};" {
            in_block = false;
        } else if let Some(rest) = line.strip_prefix("pub use ").filter(|_| !in_block) {
            if let Some((module, list)) = rest.trim_end_matches(';').split_once("::") {
                take(module, list);
            }
        } else if in_block && let Some((module, list)) = line.trim_end_matches(',').split_once("::")
        {
            take(module, list);
        }
    }
    names
}

/// The top-level modules (or root names) a source text reaches through `crate::`.
fn reached(text: &str) -> BTreeSet<String> {
    let mut reached = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `use crate::{a::B, C, d::{E, F}}`: each item's first segment.
            let end = matching_brace(group);
            for item in top_level_items(&group[..end]) {
                reached.insert(first_segment(item));
            }
        } else {
            reached.insert(first_segment(rest));
        }
    }
    reached.remove("");
    reached
}

fn first_segment(path: &str) -> String {
    path.trim()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
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
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let roots = root_names(&fs::read_to_string(src.join("lib.rs")).expect("lib.rs"));
    let rank = |module: &str| LAYERS.iter().position(|layer| *layer == module);
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut upward = Vec::new();
    for path in files.iter().filter(|path| !is_test_file(path)) {
        let module = module_of(&src, path);
        let own = rank(&module).unwrap_or_else(|| {
            panic!("{module} is in no layer: add it to LAYERS in auth/tests/layers.rs")
        });
        let text = fs::read_to_string(path).expect("a source file");
        for name in reached(&without_tests(&text)) {
            // A module's name wins over a root item's of the same name (`logout`).
            let target = match rank(&name) {
                Some(_) => name.clone(),
                None => roots.get(&name).cloned().unwrap_or(name.clone()),
            };
            let Some(theirs) = rank(&target) else {
                continue; // a root item of lib.rs's own (`testing`, `store`) or a macro path
            };
            if theirs <= own && target != module {
                upward.push(format!(
                    "{} uses crate::{name} ({target}), which is not below {module}",
                    path.strip_prefix(&src).unwrap_or(path).display()
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
    let text = "use crate::{Auth, oidc::{A, B}, session::Found};\nfn f() { crate::log::x(); }";
    let names: Vec<String> = reached(text).into_iter().collect();
    assert_eq!(names, ["Auth", "log", "oidc", "session"]);
    let roots =
        root_names("pub use service::Auth;\npub use {\n    tokens::{Tokens, tokens},\n};\n");
    assert_eq!(roots.get("Auth").map(String::as_str), Some("service"));
    assert_eq!(roots.get("Tokens").map(String::as_str), Some("tokens"));
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
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
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
