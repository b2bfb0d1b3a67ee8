//! The postal and town tables, generated at build time by `build.rs` from `data/postal.tsv`
//! and `data/municipalities.tsv` and embedded as read-only data: nothing is parsed or built
//! when a process starts, and a look-up reads the few pages it touches.
//!
//! Integers are packed little-endian (read through [`Packed`]), strings are spans of one text
//! (read through [`text`]): no pointers, so the loader has nothing to relocate.

/// A generated array of little-endian unsigned integers of `N` bytes each (1 to 4).
#[derive(Clone, Copy)]
pub(crate) struct Packed<const N: usize>(&'static [[u8; N]]);

impl<const N: usize> Packed<N> {
    /// The integers of `bytes` (a last incomplete one is ignored).
    const fn new(bytes: &'static [u8]) -> Packed<N> {
        Packed(bytes.as_chunks::<N>().0)
    }

    #[cfg(test)]
    pub(crate) fn len(self) -> usize {
        self.0.len()
    }

    pub(crate) fn get(self, i: usize) -> Option<u32> {
        self.0.get(i).map(decode)
    }

    /// The first index in `range` whose value is not below `value`, the values of `range` being
    /// sorted (as [`slice::partition_point`] with `< value`).
    pub(crate) fn lower_bound(self, range: std::ops::Range<usize>, value: u32) -> usize {
        let end = range.end.min(self.0.len());
        self.0.get(range.start..end).map_or(range.start, |s| range.start + s.partition_point(|b| decode(b) < value))
    }
}

fn decode<const N: usize>(bytes: &[u8; N]) -> u32 {
    let mut le = [0u8; 4];
    for (to, from) in le.iter_mut().zip(bytes) {
        *to = *from;
    }
    u32::from_le_bytes(le)
}

macro_rules! packed {
    ($width:literal, $file:literal) => {
        Packed::<$width>::new(include_bytes!(concat!(env!("OUT_DIR"), "/", $file)))
    };
}

/// Every string of the tables once, concatenated.
static TEXT: &str = include_str!(concat!(env!("OUT_DIR"), "/text.txt"));

/// The string of a span of [`TEXT`], `offset << 8 | length` ("" for none).
pub(crate) fn text(span: u32) -> &'static str {
    let from = (span >> 8) as usize;
    TEXT.get(from..from + (span & 0xff) as usize).unwrap_or("")
}

// The rows of `data/postal.tsv` sorted by code, as parallel arrays.

/// The 7-digit code as a number.
pub(crate) static POSTAL_CODES: Packed<3> = packed!(3, "postal_codes.bin");
/// Index into the municipality list.
pub(crate) static POSTAL_MUNIS: Packed<2> = packed!(2, "postal_munis.bin");
/// `CHOME | FLOOR | BUSINESS` of `postal.rs`.
pub(crate) static POSTAL_FLAGS: Packed<1> = packed!(1, "postal_flags.bin");
/// The town ([`text`] span).
pub(crate) static POSTAL_TOWNS: Packed<4> = packed!(4, "postal_towns.bin");
/// For each 4-digit prefix `p` (0–9999), where its rows start; entry 10000 is the number of
/// rows.
pub(crate) static POSTAL_BY_PREFIX: Packed<4> = packed!(4, "postal_by_prefix.bin");

// The town index: for each municipality, its buckets of town spellings by folded first
// character.

/// For municipality `m`, its buckets are `TOWNS_BY_MUNI[m]..TOWNS_BY_MUNI[m + 1]`.
pub(crate) static TOWNS_BY_MUNI: Packed<4> = packed!(4, "towns_by_muni.bin");
/// The folded first character of a bucket's spellings (sorted within a municipality).
pub(crate) static TOWN_BUCKETS_FIRST: Packed<3> = packed!(3, "town_buckets_first.bin");
/// For bucket `b`, its entries are `TOWN_BUCKETS_START[b]..TOWN_BUCKETS_START[b + 1]`.
pub(crate) static TOWN_BUCKETS_START: Packed<3> = packed!(3, "town_buckets_start.bin");

// The entries of the buckets.

/// The spelling to match ([`text`] span): the town's own, or for 条 towns the other numeral form.
pub(crate) static TOWNS_SPELLING: Packed<4> = packed!(4, "towns_spelling.bin");
/// The Japan Post town ([`text`] span).
pub(crate) static TOWNS_TOWN: Packed<4> = packed!(4, "towns_town.bin");
/// 1 when the town has 丁目.
pub(crate) static TOWNS_CHOME: Packed<1> = packed!(1, "towns_chome.bin");
/// The folded second character of the spelling (0 when it has one character): most spellings
/// of a bucket are ruled out by it without reading their text.
pub(crate) static TOWNS_SECOND: Packed<3> = packed!(3, "towns_second.bin");

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "a failing test may panic")]
mod tests {
    use super::*;

    #[test]
    fn packed_reads_little_endian() {
        let p = Packed::<3>::new(&[1, 0, 0, 0xff, 0xff, 0xff, 2]);
        assert_eq!(p.len(), 2);
        assert_eq!((p.get(0), p.get(1), p.get(2)), (Some(1), Some(0xff_ffff), None));
        assert_eq!(Packed::<1>::new(&[1, 3, 3, 7]).lower_bound(0..4, 3), 1);
        assert_eq!(Packed::<1>::new(&[1, 3, 3, 7]).lower_bound(2..4, 8), 4);
        assert_eq!(Packed::<2>::new(&[1, 0, 3, 0]).lower_bound(0..9, 2), 1);
        assert_eq!(Packed::<2>::new(&[1, 0, 3, 0]).lower_bound(5..9, 2), 5);
    }

    #[test]
    fn tables_agree_in_length() {
        let rows = POSTAL_CODES.len();
        assert!(rows > 100_000);
        for n in [POSTAL_MUNIS.len(), POSTAL_FLAGS.len(), POSTAL_TOWNS.len()] {
            assert_eq!(n, rows);
        }
        assert_eq!(POSTAL_BY_PREFIX.len(), 10_001);
        let towns = TOWNS_SPELLING.len();
        for n in [TOWNS_TOWN.len(), TOWNS_CHOME.len(), TOWNS_SECOND.len()] {
            assert_eq!(n, towns);
        }
        let buckets = TOWN_BUCKETS_FIRST.len();
        assert_eq!(TOWN_BUCKETS_START.len(), buckets + 1);
        assert_eq!(TOWN_BUCKETS_START.get(buckets).unwrap() as usize, towns);
        assert_eq!(TOWNS_BY_MUNI.get(TOWNS_BY_MUNI.len() - 1).unwrap() as usize, buckets);
        // Every span is within the text, on character boundaries.
        let spans = (0..rows).map(|i| POSTAL_TOWNS.get(i).unwrap());
        let mut spans =
            spans.chain((0..towns).flat_map(|i| [TOWNS_TOWN.get(i).unwrap(), TOWNS_SPELLING.get(i).unwrap()]));
        assert!(spans.all(|span| text(span).len() == (span & 0xff) as usize));
    }
}
