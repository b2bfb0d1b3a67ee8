//! The field names of the standard record shape (rules/resident.kensa), for tests and fuzz
//! targets that build or mutate records. Shared by `tests/properties.rs` and `fuzz/src/lib.rs`.

/// The top-level fields.
pub const FIELDS: &[&str] = &[
    "id",
    "my_number",
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "birth_date",
    "sex",
    "postal_code",
    "address",
    "bank",
];

/// The fields of `bank`.
pub const BANK_FIELDS: &[&str] = &["bank_code", "branch_code", "account_type", "account_number", "holder_kana"];
