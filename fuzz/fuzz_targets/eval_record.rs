//! Structure-aware: a valid example record with field values replaced by arbitrary strings,
//! numbers, nulls, arrays or objects, or removed (see `kensa_fuzz::mutated_record`).
#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

#[derive(Debug)]
struct Input {
    base: usize,
    edits: Vec<kensa_fuzz::Edit>,
}

fn value(u: &mut Unstructured<'_>, depth: u32) -> arbitrary::Result<Option<Value>> {
    Ok(Some(match u.int_in_range(0..=9u8)? {
        0 => return Ok(None),
        1 => Value::Null,
        2 => Value::Bool(bool::arbitrary(u)?),
        3 => Value::from(i64::arbitrary(u)?),
        4 => serde_json::Number::from_f64(f64::arbitrary(u)?).map_or(Value::Null, Value::Number),
        5 if depth < 3 => {
            let n = u.int_in_range(0..=3u8)?;
            Value::Array((0..n).map(|_| value(u, depth + 1).map(Option::unwrap_or_default)).collect::<Result<_, _>>()?)
        }
        6 if depth < 3 => {
            let n = u.int_in_range(0..=3u8)?;
            let mut m = serde_json::Map::new();
            for _ in 0..n {
                let k = String::arbitrary(u)?;
                m.insert(k, value(u, depth + 1)?.unwrap_or_default());
            }
            Value::Object(m)
        }
        _ => Value::String(String::arbitrary(u)?),
    }))
}

impl<'a> Arbitrary<'a> for Input {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let base = usize::from(u16::arbitrary(u)?);
        let mut edits = Vec::new();
        for _ in 0..u.int_in_range(0..=6u8)? {
            edits.push(kensa_fuzz::Edit {
                field: usize::from(u8::arbitrary(u)?),
                in_bank: bool::arbitrary(u)?,
                value: value(u, 0)?,
            });
        }
        Ok(Input { base, edits })
    }
}

fuzz_target!(|input: Input| {
    kensa_fuzz::mutated_record(input.base, &input.edits);
});
