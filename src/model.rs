//! The report's model, shared by every rule kind: sites, their outcomes, and the reason codes
//! a site is flagged with. Each kind's engine produces it; report, verdict, fixtures and series
//! consume it.

use std::fmt;

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
    // struct-retype and callback-signature
    /// The definition a site needs (the struct's initializer, the callback's body) is not in
    /// this file as code the engine can read (another file, a macro).
    NoDefinition,
    // struct-retype
    /// The struct's name or address goes somewhere other than the listed entry points.
    OtherUse,
    /// The initializer sets a member the new type does not have.
    UnmappedMember,
    // callback-signature
    /// The callback is also used where the old signature is required.
    OldSignatureUse,
    /// The callback's parameters are neither the old nor the new form.
    UnexpectedSignature,
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
            Code::NoDefinition => "no-definition",
            Code::OtherUse => "other-use",
            Code::UnmappedMember => "unmapped-member",
            Code::OldSignatureUse => "old-signature-use",
            Code::UnexpectedSignature => "unexpected-signature",
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
    /// Old-API code in an arm of a kernel version check, beside the new API: already migrated,
    /// left alone, never a finding.
    Compat,
}

impl Site {
    /// A caller's site (not a part of the API definition).
    pub fn caller(line: usize, function: &str, outcome: Outcome) -> Site {
        Site {
            line,
            function: function.to_string(),
            outcome,
            definition: false,
        }
    }

    /// A conversion that did not reach the file after all (its self-check failed, or the file
    /// could not be written): reported as left alone, for `why`.
    pub fn unconvert(&mut self, why: impl FnOnce() -> String) {
        if self.outcome == Outcome::Converted {
            self.outcome = Outcome::Flagged(Flag::new(Code::Unsupported, why()));
        }
    }
}

/// What one kind made of one file: its sites and one edit set (applied by the pipeline).
#[derive(Debug, Default)]
pub struct FileResult {
    pub sites: Vec<Site>,
    pub edits: crate::edit::EditSet,
    /// Candidate functions (holding a site) whose parse had errors the view could not explain.
    pub parse_error_functions: usize,
    /// What the file says about which members are callbacks, for the run to check that every
    /// file agrees with the struct's definition.
    pub callbacks: Callbacks,
    /// Names flagged only because other files hold the rest of them (a definition, a
    /// registration, a declaration): the run settles them across files ([`crate::across`]).
    pub across: Vec<Vec<u8>>,
}

/// Which members of the old struct a file takes to be callbacks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Callbacks {
    /// Members the rule does not list that this file treated as callbacks (from how it uses
    /// them): a run whose definition of the struct says otherwise must not keep them.
    pub assumed: Vec<String>,
    /// When this file converted the struct's definition: every member that moved.
    pub defined: Option<Vec<String>>,
}
