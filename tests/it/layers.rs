//! The layering of docs/architecture.md, enforced: no module of `src/` uses a layer above its own, every
//! module is placed in the table, and no vendor folder reaches into another.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The table of docs/architecture.md: module → layer.
fn layers() -> BTreeMap<String, u32> {
    let doc = std::fs::read_to_string(root().join("docs/architecture.md")).expect("docs/architecture.md");
    let mut table = BTreeMap::new();
    for line in doc.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 4 {
            continue;
        }
        let (module, layer) = (cells[1].trim_matches('`'), cells[2]);
        if let Ok(n) = layer.parse::<u32>() {
            if cells[1].starts_with('`') {
                table.insert(module.to_string(), n);
            }
        }
    }
    table
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src/` belongs to (`None` for lib.rs and main.rs).
fn module_of(file: &Path) -> Option<String> {
    let rel = file.strip_prefix(root().join("src")).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?.to_string();
    match first.as_str() {
        "lib.rs" | "main.rs" => None,
        f => Some(f.trim_end_matches(".rs").to_string()),
    }
}

/// The vendor folder a file is in (`src/vendors/<name>/...`).
fn vendor_folder_of(file: &Path) -> Option<String> {
    let rel = file.strip_prefix(root().join("src/vendors")).ok()?;
    let mut parts = rel.components();
    let first = parts.next()?.as_os_str().to_str()?.to_string();
    parts.next().map(|_| first)
}

/// Every `crate::<name>` a file names, with the line it is on (comments skipped; `use crate::{a, b}` read).
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut in_group = false;
    for (n, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        if in_group || code.trim_start().starts_with("use crate::{") {
            // `use crate::{a::b, c};` over one or more lines
            let inner = code.split("crate::{").last().unwrap_or(code);
            for item in inner.split(',') {
                let name: String =
                    item.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                if !name.is_empty() {
                    out.push((n + 1, name));
                }
            }
            in_group = !code.contains("};");
            continue;
        }
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            rest = &rest[i + "crate::".len()..];
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                out.push((n + 1, name));
            }
        }
    }
    out
}

/// What `crate::<Name>` re-exports at the root resolve to, from lib.rs's `pub use <module>::...` lines.
fn root_reexports() -> BTreeMap<String, String> {
    let lib = std::fs::read_to_string(root().join("src/lib.rs")).expect("lib.rs");
    let mut out = BTreeMap::new();
    for line in lib.lines().filter(|l| l.starts_with("pub use ")) {
        let rest = line.trim_start_matches("pub use ").trim_end_matches(';');
        let Some((module, items)) = rest.split_once("::") else { continue };
        for item in items.trim_matches(|c| c == '{' || c == '}').split(',') {
            let name = item.trim().rsplit("::").next().unwrap_or("").trim();
            if !name.is_empty() {
                out.insert(name.to_string(), module.to_string());
            }
        }
    }
    out
}

#[test]
fn no_module_uses_a_layer_above_its_own() {
    let table = layers();
    assert!(table.len() > 20, "docs/architecture.md's table was not read: {table:?}");
    let reexports = root_reexports();
    let mut files = Vec::new();
    sources(&root().join("src"), &mut files);
    files.sort();
    let mut problems = Vec::new();
    for file in &files {
        let Some(module) = module_of(file) else { continue };
        let Some(&own) = table.get(&module) else {
            problems.push(format!(
                "{}: module `{module}` is not in docs/architecture.md's table",
                file.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(file).expect("source");
        for (line, name) in crate_paths(&text) {
            let target = reexports.get(&name).cloned().unwrap_or(name.clone());
            if target == "VERSION" {
                continue; // the crate's version, a constant of the root
            }
            match table.get(&target) {
                Some(&layer) if layer > own => problems.push(format!(
                    "{}:{line}: `{module}` (layer {own}) uses `crate::{name}` (`{target}`, layer {layer})",
                    file.display()
                )),
                Some(_) => {}
                None => problems.push(format!(
                    "{}:{line}: `crate::{name}` is not a module in docs/architecture.md's table",
                    file.display()
                )),
            }
        }
    }
    assert!(problems.is_empty(), "layering broken:\n{}", problems.join("\n"));
}

#[test]
fn every_module_of_src_is_in_the_table_and_every_row_exists() {
    let table = layers();
    let mut files = Vec::new();
    sources(&root().join("src"), &mut files);
    let modules: std::collections::BTreeSet<String> = files.iter().filter_map(|f| module_of(f)).collect();
    let rows: std::collections::BTreeSet<String> = table.keys().cloned().collect();
    assert_eq!(modules, rows, "src/ modules vs docs/architecture.md rows");
}

#[test]
fn no_vendor_folder_reaches_into_another() {
    let mut files = Vec::new();
    sources(&root().join("src/vendors"), &mut files);
    let mut problems = Vec::new();
    for file in &files {
        let Some(own) = vendor_folder_of(file) else { continue };
        let text = std::fs::read_to_string(file).expect("source");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            let mut rest = code;
            while let Some(i) = rest.find("vendors::") {
                rest = &rest[i + "vendors::".len()..];
                let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                let folder = root().join("src/vendors").join(&name);
                if !name.is_empty() && folder.is_dir() && name != own {
                    problems.push(format!(
                        "{}:{}: vendor `{own}` uses vendor `{name}`",
                        file.display(),
                        n + 1
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_checker_sees_grouped_and_inline_paths() {
    let text = "use crate::{clock, http::Reply};\nlet x = crate::world::World::new(); // crate::admin\n";
    let names: Vec<String> = crate_paths(text).into_iter().map(|(_, n)| n).collect();
    assert_eq!(names, ["clock", "http", "world"]);
}
