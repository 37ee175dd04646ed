//! The struct-retype kind across files: settles a non-static struct whose definition,
//! registrations and `extern` declarations are spread over files (cifs's `dfscache_proc_fops`:
//! defined in dfs_cache.c, declared in dfs_cache.h, registered from cifs_debug.c). Every file
//! naming it is read; each use must be the definition, a registration the rule converts, or
//! an `extern` declaration, and exactly one file defines it.

use tree_sitter::Node;

use super::{declaration_as, initializer, is_compat, occurrences, registered};
use crate::across::{Named, SettleCtx, Settled};
use crate::model::Code;
use crate::parse::{items, line_of, text};
use crate::rule::Retype;

/// What one file does with the name.
#[derive(Default)]
struct Reading {
    /// It holds a definition (with an initializer).
    defines: bool,
    /// It declares or defines it with the old type, with the new one.
    old: bool,
    new: bool,
    /// Its declarations are in both forms under a kernel version check.
    compat: bool,
    /// The other names it registers (they must not be renamed alike).
    others: Vec<Vec<u8>>,
}

/// The form a file's declarations are in: all must agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Old,
    New,
    Both,
}

impl Reading {
    /// None: it declares nothing; Err: both types outside a version check.
    fn form(&self) -> Option<Result<Form, ()>> {
        match (self.old, self.new, self.compat) {
            (false, false, _) => None,
            (_, _, true) => Some(Ok(Form::Both)),
            (true, false, _) => Some(Ok(Form::Old)),
            (false, true, _) => Some(Ok(Form::New)),
            (true, true, false) => Some(Err(())),
        }
    }
}

type Why = Option<String>;

/// Prove every use of `name` in `files` and say what it becomes (see [`crate::across`]).
pub fn settle(k: &Retype, cx: &SettleCtx, name: &[u8], files: &[Named]) -> Result<Settled, Why> {
    let shown = String::from_utf8_lossy(name).into_owned();
    let mut readings = Vec::new();
    for f in files {
        readings.push((f, read(k, cx, name, f)?));
    }
    let defining: Vec<&str> = readings
        .iter()
        .filter(|(_, r)| r.defines)
        .map(|(f, _)| f.rel.as_str())
        .collect();
    match defining[..] {
        [] => return Err(None),
        [_] => {}
        _ => {
            return Err(Some(format!(
                "`{shown}` is defined in {}: which one the registrations mean depends on the build",
                defining.join(" and ")
            )));
        }
    };
    let said = |form: Form| match form {
        Form::Old => format!("as struct {}", k.old),
        Form::New => format!("as struct {}", k.new),
        Form::Both => "for both kernels".to_string(),
    };
    let mut forms: Vec<(&str, Form)> = Vec::new();
    for (f, r) in &readings {
        match r.form() {
            None => {}
            Some(Ok(form)) => forms.push((&f.rel, form)),
            Some(Err(())) => {
                return Err(Some(format!(
                    "{} declares `{shown}` as struct {} and as struct {} outside a kernel version check",
                    f.rel, k.old, k.new
                )));
            }
        }
    }
    if let Some((b, fb)) = forms.iter().find(|(_, x)| *x != forms[0].1) {
        let (a, fa) = forms[0];
        return Err(Some(format!(
            "{a} declares `{shown}` {}, but {b} {}: bring them into line by hand",
            said(fa),
            said(*fb)
        )));
    }
    Ok(match forms.first().map(|x| x.1) {
        Some(Form::Both) => Settled::Compat,
        Some(Form::New) => Settled::Done,
        _ => Settled::Carry(new_name(k, cx, &shown, &readings)),
    })
}

/// The name it carries after: the rule's, unless `--compat` keeps it, or any file of the tree
/// names the new one, or another struct these files register would be renamed alike.
fn new_name(k: &Retype, cx: &SettleCtx, shown: &str, readings: &[(&Named, Reading)]) -> String {
    let new = k.rename(shown);
    let alike = readings
        .iter()
        .flat_map(|(_, r)| &r.others)
        .any(|o| k.rename(&String::from_utf8_lossy(o)) == new);
    let named = !crate::elsewhere::files_naming(cx.tree, new.as_bytes()).is_empty();
    if cx.compat.is_some() || alike || named {
        shown.to_string()
    } else {
        new
    }
}

/// One file's uses of `name`: each the definition, a registration, or an `extern`
/// declaration (in either type, inside a version check's arms).
fn read(k: &Retype, cx: &SettleCtx, name: &[u8], f: &Named) -> Result<Reading, Why> {
    let src = &f.bytes[..];
    let shown = String::from_utf8_lossy(name);
    let mut words: Vec<&[u8]> = k.entries.iter().map(|(e, _)| e.as_bytes()).collect();
    words.extend([k.old.as_bytes(), name]);
    let parsed = items::parse_for(src, cx.timeout, cx.macros, &words, |p| {
        registered(k, src, p.tree.root_node())
            .into_iter()
            .map(|(n, _)| n)
            .collect()
    })
    .map_err(|e| Some(format!("{} names `{shown}` and cannot be read: {e}", f.rel)))?;
    let occ = occurrences(k, src, &parsed, name);
    if let Some(fl) = parsed.unseen_use(src, name, occ.len(), Code::OtherUse) {
        return Err(Some(format!("{}: {}", f.rel, fl.why)));
    }
    let arms = crate::compat::version_arms(src, &parsed);
    let mut r = Reading {
        compat: is_compat(src, &arms, k, &occ),
        others: registered(k, src, parsed.tree.root_node())
            .into_iter()
            .map(|(n, _)| n)
            .filter(|n| n != name)
            .collect(),
        ..Reading::default()
    };
    let at = |n: Node| format!("{}:{}", f.rel, line_of(src, n.start_byte()));
    for o in &occ {
        let Some(d) = o.decl.or_else(|| declaration_as(src, o.id, &k.new)) else {
            if o.entry {
                continue;
            }
            return Err(Some(format!(
                "{} uses `{shown}` other than by a /proc registration or an extern declaration",
                at(o.id)
            )));
        };
        if o.decl.is_some() {
            r.old = true;
        } else {
            r.new = true;
        }
        if initializer(d).is_some() {
            r.defines = true;
        } else if !is_extern(src, d) {
            return Err(Some(format!(
                "{} declares `{shown}` without `extern`: a definition of its own",
                at(d)
            )));
        }
    }
    Ok(r)
}

fn is_extern(src: &[u8], decl: Node) -> bool {
    let mut c = decl.walk();
    decl.children(&mut c)
        .any(|x| x.kind() == "storage_class_specifier" && text(src, x) == b"extern")
}
