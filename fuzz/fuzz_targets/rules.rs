#![no_main]
//! Rule-file loading and compilation: arbitrary text never panics.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(rules) = keywarden::rules::parse_rule_file("fuzz.toml", text) {
        let _ = keywarden::rules::check::check(&rules);
    }
    let _ = toml::from_str::<keywarden::config::Config>(text);
});
