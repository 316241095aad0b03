#![no_main]
//! Recognising secrets encrypted at rest (SOPS, Sealed Secrets, Ansible Vault, EJSON, Rails)
//! gives up softly on any bytes, whatever the file's name: the ciphertext spans it returns lie
//! inside the blob, sorted and disjoint, and `covers` agrees with them. The first byte picks
//! the path, so the name-keyed paths (`.ejson`, Rails `*.yml.enc`) are reached too.

use keywarden::pipeline::encrypted::{self, Encrypted};
use libfuzzer_sys::fuzz_target;

const PATHS: &[&str] = &[
    "secrets.enc.yaml",
    "config/credentials.yml.enc",
    "config/credentials/production.yml.enc",
    "keys.ejson",
    "group_vars/all/vault.yml",
    "k8s/sealed-secret.yaml",
    "README.md",
    "",
];

fuzz_target!(|input: &[u8]| {
    let Some((&pick, data)) = input.split_first() else {
        return;
    };
    let path = PATHS[pick as usize % PATHS.len()];
    for found in [encrypted::find(path, data), encrypted::find_anywhere(data)] {
        let Some(found) = found else { continue };
        match &found {
            Encrypted::Whole => assert!(found.covers(0, data.len())),
            Encrypted::Values(spans) => {
                assert!(!spans.is_empty());
                let mut last_end = 0;
                for s in spans {
                    assert!(s.start <= s.end && s.end <= data.len(), "{s:?} in {}", data.len());
                    assert!(s.start >= last_end, "spans overlap or are unsorted: {spans:?}");
                    last_end = s.end;
                    if s.start < s.end {
                        assert!(found.covers(s.start, s.end));
                        assert!(found.covers(s.end - 1, s.end));
                    }
                }
                // Before the first span nothing is ciphertext.
                if spans[0].start > 0 {
                    assert!(!found.covers(0, spans[0].start));
                }
            }
        }
    }
});
