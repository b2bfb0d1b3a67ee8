//! Arbitrary bytes; when they are JSON, the standard rules judge them (see `kensa_fuzz::eval`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kensa_fuzz::eval(data);
});
