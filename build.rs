// Embeds every rules/*.toml file in the binary, so the built-in rules are data files that
// ship inside the executable. Each is converted to JSON here: start-up parses all of them,
// and JSON parses about five times faster than TOML (a malformed file fails the build).
// The keyword automaton of the built-in rules is built here too: building it was most of
// start-up.
use std::{env, fs, path::Path};

#[allow(dead_code)]
#[path = "src/engine/keywords.rs"]
mod prefilter;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let out_dir = Path::new(&env::var("OUT_DIR").unwrap()).to_path_buf();
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut out = String::from("static EMBEDDED_RULES: &[(&str, &str)] = &[\n");
    // Keywords as the engine numbers them: lower case, in order of first use by the rules.
    let mut keywords: Vec<String> = Vec::new();
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let text = fs::read_to_string(f).unwrap_or_else(|e| panic!("rules/{name}: {e}"));
        let value: toml::Value =
            toml::from_str(&text).unwrap_or_else(|e| panic!("rules/{name}: {e}"));
        let rules = value.get("rule").and_then(|r| r.as_array());
        for rule in rules.into_iter().flatten() {
            let kws = rule.get("keywords").and_then(|k| k.as_array());
            for k in kws.into_iter().flatten().filter_map(|k| k.as_str()) {
                let k = k.to_ascii_lowercase();
                if !keywords.contains(&k) {
                    keywords.push(k);
                }
            }
        }
        let json_path = out_dir.join(format!("{name}.json"));
        fs::write(&json_path, serde_json::to_string(&value).unwrap()).unwrap();
        out.push_str(&format!(
            "    (\"rules/{name}\", include_str!({:?})),\n",
            json_path.display().to_string()
        ));
    }
    out.push_str("];\n");
    fs::write(out_dir.join("embedded_rules.rs"), out).unwrap();
    let set = prefilter::KeywordSet::new(&keywords).expect("keyword automaton");
    fs::write(out_dir.join("keywords.bin"), set.to_bytes()).unwrap();
    fs::write(out_dir.join("keywords.txt"), keywords.join("\n")).unwrap();
}
