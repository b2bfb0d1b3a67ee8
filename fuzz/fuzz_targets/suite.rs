//! Arbitrary YAML for `kensa test`'s suite loader (see `kensa_fuzz::suite`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = kensa_fuzz::suite(text);
});
