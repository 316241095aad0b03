#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    keywarden::audit::fuzz_parse("aws-secret-policy", data);
});
