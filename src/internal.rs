//! Items the `kensa` binary and the docs generator need that are not part of the stable
//! library API. Not covered by semver.

pub use crate::builtins::{Builtin, PTy, all as builtins};

/// Every diagnostic code with its explanation, in documentation order.
pub fn diagnostic_codes() -> Vec<(&'static str, &'static str)> {
    use crate::check::error::CheckCode;
    use crate::source::LoadCode;
    use crate::syntax::error::SyntaxCode;
    let mut out = Vec::new();
    out.extend(LoadCode::ALL.iter().map(|c| (c.as_str(), c.explanation())));
    out.extend(SyntaxCode::ALL.iter().map(|c| (c.as_str(), c.explanation())));
    out.extend(CheckCode::ALL.iter().map(|c| (c.as_str(), c.explanation())));
    out
}

/// The built-in rule set: (path relative to `rules/`, text).
pub fn builtin_rules() -> &'static [(&'static str, &'static str)] {
    crate::engine::BUILTIN_RULES
}

/// Normalize one line for `kensa normalize KIND`. `Err` carries the reason the line has no
/// normalized form.
pub fn normalize(kind: &str, line: &str) -> Result<String, String> {
    use crate::normalize::{address, date, digits, kana, name, postal, zengin};
    Ok(match kind {
        "kana" => kana::kana_key(line).into_owned(),
        "zengin" => zengin::to_zengin(line).into_owned(),
        "name" => name::key_nfkc(line).into_owned(),
        "variant" => name::key_variant(line).into_owned(),
        "digits" => digits::digits(line).into_owned(),
        "date" => date::Date::parse(line).map_err(|e| e.to_string())?.to_string(),
        "address" => address::key(line).map_err(|e| e.to_string())?,
        "postal" => postal::parse_code(line).map_err(|e| e.to_string())?.as_str().to_string(),
        other => return Err(format!("unknown kind `{other}`")),
    })
}
