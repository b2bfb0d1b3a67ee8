//! Arbitrary rule text: parse, check, compile, evaluate, format (see `kensa_fuzz::rules`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = kensa_fuzz::rules(text);
});
