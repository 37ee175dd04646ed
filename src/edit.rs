//! Byte edits on an original buffer: built per site, merged per file into one sorted, disjoint
//! set, and applied in one pass that copies every untouched byte verbatim.

use std::fmt;
use std::ops::Range;

/// Replace `range` of the original buffer with `text`. An empty range is an insertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub range: Range<usize>,
    pub text: Vec<u8>,
}

impl Edit {
    pub fn replace(range: Range<usize>, text: impl Into<Vec<u8>>) -> Edit {
        Edit {
            range,
            text: text.into(),
        }
    }
    pub fn delete(range: Range<usize>) -> Edit {
        Edit {
            range,
            text: Vec::new(),
        }
    }
    pub fn insert(at: usize, text: impl Into<Vec<u8>>) -> Edit {
        Edit {
            range: at..at,
            text: text.into(),
        }
    }
}

/// Two edits of one file claim the same bytes: a bug in a plan, never silently resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overlap {
    pub first: Range<usize>,
    pub second: Range<usize>,
}

impl fmt::Display for Overlap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "overlapping edits at bytes {}..{} and {}..{}",
            self.first.start, self.first.end, self.second.start, self.second.end
        )
    }
}

/// A sorted, disjoint set of edits. Insertions at the same offset keep their order of addition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EditSet {
    edits: Vec<Edit>,
}

impl EditSet {
    /// Sort and check. Two insertions at one offset are allowed (applied in the given order);
    /// an insertion strictly inside a replaced range, or two ranges sharing a byte, is an overlap.
    pub fn new(mut edits: Vec<Edit>) -> Result<EditSet, Overlap> {
        // Stable sort: insertions at one point stay in the order they were planned.
        edits.sort_by_key(|e| (e.range.start, e.range.end));
        for w in edits.windows(2) {
            let (a, b) = (&w[0], &w[1]);
            if b.range.start < a.range.end {
                return Err(Overlap {
                    first: a.range.clone(),
                    second: b.range.clone(),
                });
            }
        }
        Ok(EditSet { edits })
    }

    pub fn is_empty(&self) -> bool {
        self.edits.is_empty()
    }

    pub fn edits(&self) -> &[Edit] {
        &self.edits
    }

    /// Apply to `src` in one pass.
    pub fn apply(&self, src: &[u8]) -> Vec<u8> {
        let grow: usize = self.edits.iter().map(|e| e.text.len()).sum();
        let mut out = Vec::with_capacity(src.len() + grow);
        let mut at = 0;
        for e in &self.edits {
            out.extend_from_slice(&src[at..e.range.start]);
            out.extend_from_slice(&e.text);
            at = e.range.end;
        }
        out.extend_from_slice(&src[at..]);
        out
    }

    /// Where each edit lands: its range in the original and the range of its text in the
    /// output of [`EditSet::apply`], in order (what an incremental re-parse needs).
    pub fn changes(&self) -> Vec<Change> {
        let mut shift = 0isize;
        self.edits
            .iter()
            .map(|e| {
                let start = e
                    .range
                    .start
                    .checked_add_signed(shift)
                    .expect("edits stay inside the output");
                shift += e.text.len() as isize - e.range.len() as isize;
                Change {
                    old: e.range.clone(),
                    new: start..start + e.text.len(),
                }
            })
            .collect()
    }
}

/// Bytes `old` of one text became bytes `new` of another; everything else moved unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub old: Range<usize>,
    pub new: Range<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_in_order_and_keeps_other_bytes() {
        let set = EditSet::new(vec![
            Edit::replace(4..5, "X"),
            Edit::insert(0, "<"),
            Edit::insert(0, ">"),
            Edit::delete(6..8),
        ])
        .unwrap();
        assert_eq!(set.apply(b"abcdefghij"), b"<>abcdXfij".to_vec());
        let c: Vec<_> = set.changes().into_iter().map(|c| (c.old, c.new)).collect();
        assert_eq!(c, [(0..0, 0..1), (0..0, 1..2), (4..5, 6..7), (6..8, 8..8)]);
    }

    #[test]
    fn overlap_is_an_error() {
        let err = EditSet::new(vec![Edit::delete(2..6), Edit::replace(5..7, "y")]).unwrap_err();
        assert_eq!(
            err,
            Overlap {
                first: 2..6,
                second: 5..7
            }
        );
        assert!(EditSet::new(vec![Edit::delete(2..6), Edit::insert(3, "y")]).is_err());
        assert!(EditSet::new(vec![Edit::delete(2..6), Edit::delete(2..6)]).is_err());
        // Touching ranges and an insertion at a range's edge are fine.
        assert!(
            EditSet::new(vec![
                Edit::delete(2..6),
                Edit::delete(6..7),
                Edit::insert(2, "a")
            ])
            .is_ok()
        );
    }
}
