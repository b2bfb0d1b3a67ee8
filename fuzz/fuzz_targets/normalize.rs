//! Every public normalizer on arbitrary text (see `kensa_fuzz::normalize`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|s: &str| {
    kensa_fuzz::normalize(s);
});
