//! Bearer tokens: who may call the service, and under which name the decision log records them.
//!
//! The tokens file holds hashes only, one caller a line: `NAME sha256:HEX [admin]` (`#` starts
//! a comment). A request's `Authorization: Bearer TOKEN` is hashed and looked up, so the file
//! never holds a usable token, and comparing hashes leaks nothing about a token through timing.

use std::collections::HashMap;
use std::path::Path;

use sha2::{Digest, Sha256};

/// A caller the tokens file names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub name: String,
    /// May reload the rules.
    pub admin: bool,
}

/// The callers of a tokens file, by the SHA-256 of their token.
#[derive(Debug, Default)]
pub struct Tokens {
    by_hash: HashMap<[u8; 32], Caller>,
}

/// Tokens shorter than this are refused: a token must not be guessable.
const MIN_TOKEN_CHARS: usize = 20;

impl Tokens {
    /// Read a tokens file; every line that is not a comment must be `NAME sha256:HEX [admin]`.
    pub fn read(path: &Path) -> Result<Tokens, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the tokens file `{}`: {e}", path.display()))?;
        Tokens::parse(&text).map_err(|e| format!("tokens file `{}` {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Tokens, String> {
        let mut tokens = Tokens::default();
        for (i, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let n = i + 1;
            let words: Vec<&str> = line.split_whitespace().collect();
            let (name, hash, admin) = match words.as_slice() {
                [name, hash] => (*name, *hash, false),
                [name, hash, "admin"] => (*name, *hash, true),
                [_, _, other] => {
                    return Err(format!("line {n}: `{other}` is not a permission (the only one is `admin`)"));
                }
                _ => {
                    return Err(format!(
                        "line {n}: expected `NAME sha256:HEX [admin]` (make a line with `kensa token NAME`)"
                    ));
                }
            };
            let Some(hex) = hash.strip_prefix("sha256:") else {
                return Err(format!(
                    "line {n}: the token of `{name}` must be given as its hash, `sha256:HEX`; a token in clear is not accepted (make one with `kensa token {name}`)"
                ));
            };
            let digest = decode_hex(hex).ok_or_else(|| {
                format!("line {n}: the hash of `{name}` is not a SHA-256 hash (64 hex digits after `sha256:`)")
            })?;
            if tokens.by_hash.insert(digest, Caller { name: name.to_string(), admin }).is_some() {
                return Err(format!("line {n}: this token is already given to another caller"));
            }
        }
        if tokens.by_hash.is_empty() {
            return Err(String::from(
                "has no tokens: no caller could use the service (add one with `kensa token NAME >> FILE`)",
            ));
        }
        Ok(tokens)
    }

    /// The caller holding `token`, if any.
    pub fn caller(&self, token: &str) -> Option<&Caller> {
        self.by_hash.get(&hash(token))
    }
}

fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn decode_hex(hex: &str) -> Option<[u8; 32]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (o, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let s = std::str::from_utf8(pair).ok()?;
        *o = u8::from_str_radix(s, 16).ok()?;
    }
    Some(out)
}

/// A new random token for `name` and its line for the tokens file.
pub fn new_token(name: &str, admin: bool) -> Result<(String, String), String> {
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control() || c == '#') {
        return Err(format!(
            "`{name}` cannot be a caller's name: use letters, digits and punctuation without spaces or `#`"
        ));
    }
    let mut random = [0u8; 24];
    getrandom::fill(&mut random).map_err(|e| format!("cannot make a random token: {e}"))?;
    let token = format!("kensa_{}", to_hex(&random));
    debug_assert!(token.len() >= MIN_TOKEN_CHARS);
    let line = format!("{name} sha256:{}{}", to_hex(&hash(&token)), if admin { " admin" } else { "" });
    Ok((token, line))
}

fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests may unwrap")]
mod tests {
    use super::*;

    #[test]
    fn a_new_token_is_found_by_its_line_and_nothing_else_is() {
        let (token, line) = new_token("window-3", false).unwrap();
        let (admin_token, admin_line) = new_token("ops", true).unwrap();
        assert!(!line.contains(&token), "the line must not hold the token: {line}");
        let tokens = Tokens::parse(&format!("# windows\n{line}\n\n{admin_line}  # reloads\n")).unwrap();
        assert_eq!(tokens.caller(&token), Some(&Caller { name: String::from("window-3"), admin: false }));
        assert_eq!(tokens.caller(&admin_token), Some(&Caller { name: String::from("ops"), admin: true }));
        assert_eq!(tokens.caller(&token[..token.len() - 1]), None);
        assert_eq!(tokens.caller(""), None);
        assert_ne!(token, admin_token);
    }

    #[test]
    fn a_tokens_file_with_a_clear_token_or_a_bad_line_is_refused_with_its_line() {
        let e = Tokens::parse("a sha256:00\n").unwrap_err();
        assert!(e.contains("line 1") && e.contains("64 hex digits"), "{e}");
        let e = Tokens::parse(&format!("a sha256:{}\nb kensa_secret_in_clear\n", "0".repeat(64))).unwrap_err();
        assert!(e.contains("line 2") && e.contains("kensa token b") && !e.contains("kensa_secret"), "{e}");
        let e = Tokens::parse(&format!("a sha256:{} root\n", "0".repeat(64))).unwrap_err();
        assert!(e.contains("`root` is not a permission"), "{e}");
        let e = Tokens::parse("# nothing\n").unwrap_err();
        assert!(e.contains("has no tokens"), "{e}");
        let same = format!("a sha256:{h}\nb sha256:{h}\n", h = "ab".repeat(32));
        assert!(Tokens::parse(&same).unwrap_err().contains("line 2"));
        assert!(new_token("two words", false).is_err());
    }
}
