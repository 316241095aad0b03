#![no_main]
//! Every audit parser, one at a time: `KEYWARDEN_FUZZ_TARGET` names which (a format of the
//! auditor's format table, such as `vault-kv` or `cloudtrail`, or `policy`; `list` prints
//! them). The targets come from the library's own list, so a new input format is fuzzed
//! without a change here. With `KEYWARDEN_FUZZ_CORPUS=DIR`, an empty DIR is first seeded
//! with the test fixtures of that format.

use std::path::Path;
use std::sync::OnceLock;

use keywarden::audit::fuzz::{Target, names};
use libfuzzer_sys::fuzz_target;

static TARGET: OnceLock<Target> = OnceLock::new();

fn init() {
    let name = std::env::var("KEYWARDEN_FUZZ_TARGET").unwrap_or_default();
    if name == "list" {
        println!("{}", names().join("\n"));
        std::process::exit(0);
    }
    let Some(target) = Target::new(&name) else {
        eprintln!(
            "KEYWARDEN_FUZZ_TARGET={name:?} names no target; one of: {}",
            names().join(", ")
        );
        std::process::exit(2);
    };
    if let Ok(dir) = std::env::var("KEYWARDEN_FUZZ_CORPUS") {
        seed(&target, Path::new(&dir));
    }
    let _ = TARGET.set(target);
}

/// Copies the fixtures this target reads into an empty corpus directory.
fn seed(target: &Target, dir: &Path) {
    let empty = std::fs::read_dir(dir).map_or(true, |mut d| d.next().is_none());
    if !empty {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let fixtures = root.join("tests/fixtures/audit");
    let policy = root.join("src/audit/default-policy.toml");
    let _ = std::fs::create_dir_all(dir);
    for (i, f) in target.seeds(&[&fixtures, &policy]).iter().enumerate() {
        let _ = std::fs::copy(f, dir.join(format!("seed-{i:03}")));
    }
}

fuzz_target!(init: init(), |data: &[u8]| {
    if let Some(t) = TARGET.get() {
        t.run(data);
    }
});
