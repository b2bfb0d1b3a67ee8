//! Syntax: rule text → AST with byte spans.
//!
//! Input → output: the text of one file → a [`ast::Module`] plus every syntax diagnostic found
//! (the parser recovers at the next top-level item). pest types never leave this module.

pub mod ast;
mod depth;
pub mod error;
mod parser;

pub use parser::{MAX_ITEMS, parse_expr, parse_file, parse_file_within};
