//! Derives the `function` world's allowed imports and required exports from
//! the WIT in the workspace's `wit/`, so upload validation can never drift from the world
//! that guests are told to target.

use std::fmt::Write as _;
use std::path::PathBuf;
use wit_parser::{Resolve, WorldItem};

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets this"));
    let wit = manifest_dir.join("../../wit");
    println!("cargo:rerun-if-changed={}", wit.display());

    let mut resolve = Resolve::default();
    let (pkg, _) = resolve.push_dir(&wit).expect("wit/ must parse");
    let world_id = resolve
        .select_world(&[pkg], Some("function"))
        .expect("wit/ must define world `function`");
    let world = &resolve.worlds[world_id];

    let interface_names = |items: Vec<&WorldItem>| -> Vec<String> {
        let mut out: Vec<String> = items
            .into_iter()
            .filter_map(|item| match item {
                WorldItem::Interface { id, .. } => resolve.id_of(*id),
                _ => None,
            })
            .collect();
        out.sort();
        out.dedup();
        out
    };
    let imports = interface_names(world.imports.values().collect());
    let exports = interface_names(world.exports.values().collect());

    let mut src = String::new();
    writeln!(
        src,
        "/// Interfaces the `function` world imports (from wit/)."
    )
    .unwrap_or(());
    writeln!(src, "pub const IMPORTS: &[&str] = &{imports:?};").unwrap_or(());
    writeln!(
        src,
        "/// Interfaces the `function` world exports (from wit/)."
    )
    .unwrap_or(());
    writeln!(src, "pub const EXPORTS: &[&str] = &{exports:?};").unwrap_or(());
    let out =
        PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets this")).join("function_world.rs");
    std::fs::write(out, src).expect("write function_world.rs");
}
