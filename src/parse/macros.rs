//! Kernel macros the parse view must know: annotations that expand to nothing or to an
//! attribute (blanked), and iterator macros that expand to a `for (` header (read as loops).
//! A built-in list is the fallback; a tree's own headers add what they define.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::Path;

use super::lex;

/// A set of names asked about for every word of every parsed file: hashed with a cheap
/// multiply-rotate hash (names are short and not chosen by an attacker) instead of SipHash.
pub type Names = HashSet<Vec<u8>, BuildHasherDefault<WordHasher>>;

#[derive(Debug, Clone, Default)]
pub struct Macros {
    /// `__user`, `__init`: blanked.
    pub annotations: Names,
    /// `__acquires(x)`, `__printf(a, b)`: blanked with their arguments.
    pub with_args: Names,
    /// `list_for_each_entry(...)`: read as a `while` loop.
    pub iterators: Names,
}

/// A one-bit-per-name summary of every name a [`Macros`] knows, built once per file: most
/// words of a file are none of them, and this says so without hashing the word three times.
pub struct Quick([u64; 64]);

impl Quick {
    fn bit(word: &[u8]) -> usize {
        let (first, last) = (word.first().copied(), word.last().copied());
        let mid = word.get(word.len() / 2).copied();
        let k = (word.len() as u64)
            ^ (u64::from(first.unwrap_or(0)) << 8)
            ^ (u64::from(last.unwrap_or(0)) << 16)
            ^ (u64::from(mid.unwrap_or(0)) << 24);
        (k.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 52) as usize
    }

    /// False: `word` is none of the names. True: it may be one (ask the sets).
    pub fn may_hold(&self, word: &[u8]) -> bool {
        let b = Self::bit(word);
        self.0[b / 64] & (1 << (b % 64)) != 0
    }
}

/// FxHash's step (rustc's hasher) over 8-byte chunks.
#[derive(Default)]
pub struct WordHasher(u64);

impl Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        for c in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..c.len()].copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w))
                .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.write(&n.to_le_bytes());
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Headers that define the annotation and iterator macros kernel code uses most.
const HEADERS: &[&str] = &[
    "include/linux/compiler_types.h",
    "include/linux/compiler_attributes.h",
    "include/linux/compiler.h",
    "include/linux/compiler-gcc.h",
    "include/linux/init.h",
    "include/linux/linkage.h",
    "include/linux/cache.h",
    "include/linux/kprobes.h",
    "include/linux/list.h",
    "include/linux/llist.h",
    "include/linux/rculist.h",
    "include/linux/nodemask.h",
    "include/linux/cpumask.h",
    "include/linux/mm.h",
    "include/linux/mmzone.h",
    "include/linux/radix-tree.h",
    "include/linux/xarray.h",
    "include/linux/of.h",
    "include/linux/idr.h",
];

impl Macros {
    pub fn builtin() -> Macros {
        let set = |l: &[&str]| l.iter().map(|s| s.as_bytes().to_vec()).collect();
        Macros {
            annotations: set(super::ANNOTATIONS),
            with_args: set(super::ANNOTATIONS_WITH_ARGS),
            iterators: Names::default(),
        }
    }

    /// The summary of every name known here, for [`Quick::may_hold`].
    pub fn quick(&self) -> Quick {
        let mut q = Quick([0; 64]);
        for w in self
            .annotations
            .iter()
            .chain(&self.with_args)
            .chain(&self.iterators)
        {
            let b = Quick::bit(w);
            q.0[b / 64] |= 1 << (b % 64);
        }
        q
    }

    /// The built-in lists plus what `tree`'s headers define.
    pub fn learn(tree: &Path) -> Macros {
        let mut m = Macros::builtin();
        for h in HEADERS {
            if let Ok(text) = std::fs::read(tree.join(h)) {
                m.add_defines(&text);
            }
        }
        m
    }

    /// Learn from the `#define` lines of one header.
    pub fn add_defines(&mut self, text: &[u8]) {
        let lexed = lex::lex(text);
        for d in lexed.directives() {
            let line: Vec<u8> = text[d]
                .iter()
                .map(|&b| if b == b'\\' || b == b'\n' { b' ' } else { b })
                .collect();
            let (word, rest) = super::directives::directive_word(&line);
            if word != b"define" {
                continue;
            }
            let rest = rest.trim_ascii_start();
            let name_len = rest
                .iter()
                .position(|&b| !lex::is_ident_byte(b))
                .unwrap_or(rest.len());
            let (name, after) = rest.split_at(name_len);
            if name.is_empty() || name.len() < 5 && !after.starts_with(b"(") {
                continue;
            }
            let (args, body) = match after.strip_prefix(b"(") {
                Some(a) => match a.iter().position(|&b| b == b')') {
                    Some(k) => (true, a[k + 1..].trim_ascii()),
                    None => continue,
                },
                None => (false, after.trim_ascii()),
            };
            let attribute = body.starts_with(b"__attribute__")
                || body.starts_with(b"__section(")
                || body.starts_with(b"__aligned(");
            if args {
                if attribute || body.is_empty() && name.starts_with(b"__") {
                    self.with_args.insert(name.to_vec());
                } else if body.starts_with(b"for (") || body.starts_with(b"for(") {
                    self.iterators.insert(name.to_vec());
                }
            } else if name.starts_with(b"_") && (body.is_empty() || attribute) {
                self.annotations.insert(name.to_vec());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The summary never says no to a name the sets hold (the view would then read the
    /// macro as code), and says no to most other words.
    #[test]
    fn the_quick_summary_holds_every_known_name() {
        let mut m = Macros::builtin();
        m.add_defines(b"#define pgd_for_each_thing(p) for (p = 0; p; p++)\n#define __my_cold __attribute__((cold))\n");
        let q = m.quick();
        for w in m.annotations.iter().chain(&m.with_args).chain(&m.iterators) {
            assert!(q.may_hold(w), "{}", String::from_utf8_lossy(w));
        }
        let plain = [
            "ret",
            "dev",
            "mm",
            "vma",
            "kfree",
            "spin_lock",
            "pdev",
            "struct_size",
        ];
        assert!(plain.iter().filter(|w| q.may_hold(w.as_bytes())).count() <= 2);
    }

    #[test]
    fn learns_annotations_and_iterators_from_defines() {
        let mut m = Macros::builtin();
        m.add_defines(
            b"#define __my_cold __attribute__((__cold__))\n#define __empty_note\n#define __my_fmt(a, b) __attribute__((format(printf, a, b)))\n#define pgd_for_each_thing(p, head) \\\n\tfor (p = (head); p; p = p->next)\n#define VALUE 3\n#define max3(a, b, c) max(a, max(b, c))\n",
        );
        assert!(m.annotations.contains(&b"__my_cold"[..]));
        assert!(m.annotations.contains(&b"__empty_note"[..]));
        assert!(m.with_args.contains(&b"__my_fmt"[..]));
        assert!(m.iterators.contains(&b"pgd_for_each_thing"[..]));
        assert!(!m.annotations.contains(&b"VALUE"[..]));
        assert!(!m.iterators.contains(&b"max3"[..]));
        // Indented directives (`# define`, `#\tdefine`, `#  define`) are defines too.
        m.add_defines(
            b"#ifdef X\n# define __a_note\n#\tdefine __b_note\n#  define __c_note\n#endif\n",
        );
        for n in ["__a_note", "__b_note", "__c_note"] {
            assert!(m.annotations.contains(n.as_bytes()), "{n}");
        }
    }
}
