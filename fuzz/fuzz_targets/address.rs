//! The address parser and key: the first byte chooses between the rest as UTF-8 text and
//! the rest as a list of address pieces (long runs of 丁目/番地/号/digits/kanji numerals).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    if mode % 2 == 0 {
        if let Ok(s) = std::str::from_utf8(rest) {
            kensa_fuzz::address(s);
        }
    } else {
        kensa_fuzz::address(&kensa_fuzz::address_from_tokens(rest));
    }
});
