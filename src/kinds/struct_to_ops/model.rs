//! The facts the struct-to-ops analysis works on: walks and their uses. The site, flag and
//! outcome model every kind shares lives in `crate::model` and is re-exported here.

use std::ops::Range;

pub use crate::model::{Code, Flag, Outcome, Site, Verdict};

/// How one occurrence of a walk's name is used.
#[derive(Debug, Clone)]
pub enum Use {
    /// The declaration (the declarator's identifier).
    Decl,
    /// `memset(&w, 0, sizeof(w))` as a statement; `stmt` is the expression statement.
    Zero { stmt: Range<usize> },
    /// `w.f = E;` as a statement.
    Store {
        field: String,
        value: Range<usize>,
        stmt: Range<usize>,
    },
    /// `w.f` read inside an expression; `expr` is the field expression.
    Read { field: String, expr: Range<usize> },
    /// `&w` as the walk argument of an entry point call (index into the function's calls).
    Call { call: usize },
    /// `sizeof(w)`: harmless.
    Sizeof,
}
