//! Japanese text normalization: width, kana, bank kana (Zengin), variant kanji,
//! dates (ISO and 和暦), digits and check digits, addresses and postal codes.
//!
//! Input → output: `&str` → normalized `Cow<str>` (borrowed when nothing changes),
//! a parsed value, or a typed error with a reason.
//! Never: I/O, global mutable state, panics on any input. This module depends on
//! nothing else in the crate (see docs/ARCHITECTURE.md).

pub mod address;
pub mod date;
pub mod digits;
pub mod kana;
pub mod name;
pub mod postal;
mod spelling;
mod tables;
pub mod variant;
pub mod width;
pub mod zengin;
