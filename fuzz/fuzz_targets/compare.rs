//! The text comparators and the match block on texts of any length, up to hundreds of
//! thousands of characters (see `kensa_fuzz::compare`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((a, b)) = kensa_fuzz::texts_to_compare(data) {
        kensa_fuzz::compare(&a, &b);
    }
});
