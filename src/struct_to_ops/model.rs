//! The facts the analysis works on: walks, their uses, entry-point calls, and the verdicts
//! handed to the planner and the report.

use std::fmt;
use std::ops::Range;

/// Why a site was left alone. The code is stable (fixtures and `--json` use it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    Escape,
    NotLocal,
    NonConstantCallback,
    AmbiguousValue,
    ChangedValue,
    MissingField,
    UndefinedField,
    UnknownField,
    ReadAfterCall,
    ParseError,
    Guard,
    Comment,
    Unsupported,
    Blocked,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Escape => "escape",
            Code::NotLocal => "not-local",
            Code::NonConstantCallback => "non-constant-callback",
            Code::AmbiguousValue => "ambiguous-value",
            Code::ChangedValue => "changed-value",
            Code::MissingField => "missing-field",
            Code::UndefinedField => "undefined-field",
            Code::UnknownField => "unknown-field",
            Code::ReadAfterCall => "read-after-call",
            Code::ParseError => "parse-error",
            Code::Guard => "guard",
            Code::Comment => "comment",
            Code::Unsupported => "unsupported",
            Code::Blocked => "blocked",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reason to leave a walk (or a whole function) untouched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    pub code: Code,
    pub why: String,
    /// The line of the offending code, when it is not the site's own line.
    pub line: Option<usize>,
}

impl Flag {
    pub fn new(code: Code, why: impl Into<String>) -> Flag {
        Flag {
            code,
            why: why.into(),
            line: None,
        }
    }

    /// Name the line of the offending code (the message says it too).
    pub fn at(self, line: usize) -> Flag {
        Flag {
            why: format!("line {line}: {}", self.why),
            line: Some(line),
            ..self
        }
    }
}

pub type Verdict<T> = Result<T, Flag>;

/// One old-API site in the report: an entry-point call, or a walk that cannot reach one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub line: usize,
    pub function: String,
    pub outcome: Outcome,
    /// A part of the API definition (the struct, a prototype, an implementation), not a caller.
    pub definition: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Converted,
    Flagged(Flag),
}

impl Site {
    /// A conversion that did not reach the file after all (its self-check failed, or the file
    /// could not be written): reported as left alone, for `why`.
    pub fn unconvert(&mut self, why: impl FnOnce() -> String) {
        if self.outcome == Outcome::Converted {
            self.outcome = Outcome::Flagged(Flag::new(Code::Unsupported, why()));
        }
    }
}

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
