//! Mail header values for the series: dates validated and written as RFC 2822 (the `time`
//! crate reads and writes them), and non-ASCII display names and subjects encoded as RFC 2047
//! encoded-words (the `encodify` crate), so the patches go to a list as they are. What stays
//! here is what no crate decides for us: which values are refused, and git's quoting of ASCII
//! names.

use anyhow::{Result, bail};
use encodify::{Fold, rfc2047};
use time::OffsetDateTime;
use time::format_description::well_known::{Iso8601, Rfc2822};

/// A point in time with the zone offset it was written in; `time` reads and writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date(OffsetDateTime);

/// Why a date is refused though it reads.
const OUT_OF_RANGE: &str = "out of range: a patch's date lies in the years 1970 to 9999";

/// The last second of 9999 (UTC): a later year has more than four digits, which neither a
/// Date: header nor git takes; git's own dates start at the epoch.
const LAST: i64 = 253_402_300_799;

impl Date {
    fn in_range(&self) -> bool {
        (0..=LAST).contains(&self.0.unix_timestamp())
    }

    /// A count of seconds since the epoch, in UTC; None outside the years 1970 to 9999.
    pub fn utc(unix: i64) -> Option<Date> {
        let d = Date(OffsetDateTime::from_unix_timestamp(unix).ok()?);
        d.in_range().then_some(d)
    }

    /// The clock's time, in UTC.
    pub fn now() -> Result<Date> {
        let now = OffsetDateTime::now_utc().replace_nanosecond(0)?;
        match Date(now).in_range() {
            true => Ok(Date(now)),
            false => bail!("the system clock ({now}) is {OUT_OF_RANGE}; give --date"),
        }
    }

    /// `--date`: RFC 2822 (`Thu, 26 Nov 2026 14:00:00 +0000`), ISO 8601
    /// (`2026-11-26T14:00:00Z`, `2026-11-26 14:00:00 +01:00`) or `@SECONDS` since the epoch.
    pub fn parse(s: &str) -> Result<Date> {
        let t = s.trim();
        let parsed = match t.strip_prefix('@') {
            Some(secs) => secs.parse::<i64>().ok().map(|n| {
                // A number that reads is a date, however far off: said to be out of range.
                OffsetDateTime::from_unix_timestamp(n).map_err(|_| n.signum())
            }),
            None => OffsetDateTime::parse(t, &Rfc2822)
                .ok()
                .or_else(|| iso8601(t))
                .map(Ok),
        };
        match parsed {
            Some(Ok(d)) if Date(d).in_range() => Ok(Date(d)),
            Some(_) => bail!("{s:?}: {OUT_OF_RANGE}"),
            None => bail!(
                "{s:?}: not a date (give RFC 2822 like \"Thu, 26 Nov 2026 14:00:00 +0000\", ISO 8601 like 2026-11-26T14:00:00Z, or @SECONDS)"
            ),
        }
    }

    /// `SOURCE_DATE_EPOCH`: whole seconds since the epoch, nothing else.
    pub fn from_epoch_var(s: &str) -> Result<Date> {
        match s.trim().parse::<i64>().ok().and_then(Date::utc) {
            Some(d) => Ok(d),
            None => bail!("SOURCE_DATE_EPOCH={s:?}: not a number of seconds since 1970"),
        }
    }

    /// RFC 2822, in the zone it was given in: `Thu, 26 Nov 2026 14:00:00 +0000`.
    pub fn rfc2822(&self) -> String {
        // Every date here is within the years 1970 to 9999, which RFC 2822 formatting takes.
        self.0
            .format(&Rfc2822)
            .expect("a date in the years 1970 to 9999 has an RFC 2822 form")
    }
}

/// ISO 8601 as `time` reads it, with two spellings people type: a space for the `T` and
/// before the zone (`2026-11-26 15:00 +01:00`); without a zone the time is UTC.
fn iso8601(s: &str) -> Option<OffsetDateTime> {
    let mut parts = s.split_whitespace();
    let day = parts.next()?;
    let rest: String = parts.collect();
    let joined = match rest.is_empty() {
        true => day.to_string(),
        false => format!("{day}T{rest}"),
    };
    OffsetDateTime::parse(&joined, &Iso8601::DEFAULT)
        .ok()
        .or_else(|| {
            time::PrimitiveDateTime::parse(&joined, &Iso8601::DEFAULT)
                .ok()
                .map(|d| d.assume_utc())
        })
}

/// A value that goes into a mail header as given (`--to`, `--cc`, `--subject-prefix`,
/// `--prefix`): no control characters. A newline would end the header and start another one
/// (`Bcc:` injection); a tab or a NUL is not header text either.
pub fn header_text(s: &str) -> Result<String, String> {
    match s.chars().find(|c| c.is_control()) {
        Some(c) => Err(format!(
            "holds the control character {c:?}: a mail header value cannot"
        )),
        None => Ok(s.to_string()),
    }
}

/// `--signoff` (and the git identity it defaults to): `Name <local@domain>`, as From: and
/// Signed-off-by: need it (`git am` refuses a patch without an author address).
pub fn ident(s: &str) -> Result<String, String> {
    header_text(s)?;
    let bad = || "not `Name <address>` (e.g. \"A U Thor <author@example.org>\")".to_string();
    let (name, rest) = s.trim().split_once('<').ok_or_else(bad)?;
    let address = rest.strip_suffix('>').ok_or_else(bad)?;
    let name = name.trim();
    if name.is_empty() || name.contains('>') || !is_address(address) {
        return Err(bad());
    }
    Ok(format!("{name} <{address}>"))
}

/// `--to`/`--cc`: an address, or `Name <address>`.
pub fn recipient(s: &str) -> Result<String, String> {
    header_text(s)?;
    if s.contains('<') {
        return ident(s);
    }
    match is_address(s.trim()) {
        true => Ok(s.trim().to_string()),
        false => Err("not an address or `Name <address>`".into()),
    }
}

/// `local@domain`, without spaces or characters that end an address in a header.
fn is_address(a: &str) -> bool {
    let Some((local, domain)) = a.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !a
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>,;()\"".contains(c))
}

/// Encoded-words in lines of at most 76 columns (RFC 2047 section 2), folded with a newline
/// and a space: the series' files have Unix line ends, as `git format-patch` writes them.
const FOLD: Fold<'static> = Fold::new(76, b"\n ", 1);

/// A header value with non-ASCII text as RFC 2047 `Q` encoded-words (`encodify`), starting at
/// `column` of its line (after `Subject: `); ASCII passes unchanged.
pub fn encode_words(text: &str, mut column: usize) -> String {
    if text.is_ascii() {
        return text.to_string();
    }
    let mut out = String::new();
    rfc2047::Q_TEXT.encode_words("UTF-8", text, &mut column, FOLD, &mut out);
    out
}

/// `Name <mail>` with the display name encoded when it is not ASCII (and quoted when it holds
/// characters an address header gives meaning to), starting at `column` of its line.
pub fn encode_address(addr: &str, column: usize) -> String {
    let Some((name, rest)) = addr.rsplit_once('<') else {
        return addr.to_string();
    };
    let name = name.trim();
    if name.is_empty() {
        return format!("<{rest}");
    }
    // A quoted name (MAINTAINERS quotes every name outside [A-Za-z0-9_ -]) is encoded or
    // quoted from its text: an encoded-word holds no literal quote marks (RFC 2047 5(3)).
    let text = unquoted(name);
    if !text.is_ascii() {
        let mut column = column;
        let mut out = String::new();
        rfc2047::Q_PHRASE.encode_words("UTF-8", &text, &mut column, FOLD, &mut out);
        // The address goes on a line of its own when the encoded-words' last line cannot
        // take it: a line that holds an encoded-word stays within 76 columns.
        let gap = match column + 2 + rest.len() > FOLD.width {
            true => "\n ",
            false => " ",
        };
        return format!("{out}{gap}<{rest}");
    }
    let name = match text.contains([
        '.', ',', '@', ':', ';', '(', ')', '"', '\\', '<', '>', '[', ']',
    ]) {
        true => format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\"")),
        false => text,
    };
    format!("{name} <{rest}")
}

/// The text of a display name: a quoted-string's quotes and backslash escapes removed.
fn unquoted(name: &str) -> String {
    let Some(inner) = name
        .strip_prefix('"')
        .and_then(|n| n.strip_suffix('"'))
        .filter(|_| name.len() >= 2)
    else {
        return name.to_string();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(unix: i64) -> String {
        Date::utc(unix).unwrap().rfc2822()
    }

    #[test]
    fn dates_are_read_in_three_forms_and_written_as_rfc2822() {
        let want = "Thu, 26 Nov 2026 14:00:00 +0000";
        for s in [
            want,
            "26 Nov 2026 14:00:00 GMT",
            "26 Nov 2026 13:00:00 -0100",
            "2026-11-26T14:00:00Z",
            "2026-11-26T14:00:00",
            "2026-11-26 15:00 +01:00",
            "2026-11-26 15:00:00 +0100",
            "@1795701600",
        ] {
            assert_eq!(
                Date::parse(s).map(|d| utc(d.0.unix_timestamp())).ok(),
                Some(want.to_string()),
                "{s}"
            );
        }
        // The zone it was given in is kept.
        assert_eq!(
            Date::parse("2026-11-26 15:00:00 +0100").unwrap().rfc2822(),
            "Thu, 26 Nov 2026 15:00:00 +0100"
        );
        assert_eq!(utc(951_782_400), "Tue, 29 Feb 2000 00:00:00 +0000");
    }

    #[test]
    fn dates_at_the_bounds_of_1970_and_9999() {
        // The first and last second, from each form; a second outside either is refused.
        let first = "Thu, 01 Jan 1970 00:00:00 +0000";
        let last = "Fri, 31 Dec 9999 23:59:59 +0000";
        assert_eq!(utc(0), first);
        assert_eq!(utc(LAST), last);
        assert_eq!(Date::utc(-1), None);
        assert_eq!(Date::utc(LAST + 1), None);
        for (s, want) in [
            ("@0", first),
            ("1970-01-01T00:00:00Z", first),
            ("Thu, 1 Jan 1970 00:00:00 +0000", first),
            (
                "Thu, 01 Jan 1970 01:00:00 +0100",
                "Thu, 01 Jan 1970 01:00:00 +0100",
            ),
            ("@253402300799", last),
            ("9999-12-31T23:59:59Z", last),
            ("Fri, 31 Dec 9999 23:59:59 +0000", last),
            (
                "Fri, 31 Dec 9999 22:59:59 -0100",
                "Fri, 31 Dec 9999 22:59:59 -0100",
            ),
        ] {
            assert_eq!(Date::parse(s).unwrap().rfc2822(), want, "{s}");
        }
        for s in [
            "@-1",
            "@253402300800",
            "@99999999999999",
            "@-99999999999999",
            "1969-12-31T23:59:59Z",
            "Thu, 01 Jan 1970 00:59:59 +0100",
            "Fri, 31 Dec 9999 23:59:59 -0100",
            "Fri, 31 Dec 1969 23:59:59 +0000",
        ] {
            let e = Date::parse(s).unwrap_err().to_string();
            assert!(e.contains("years 1970 to 9999"), "{s}: {e}");
        }
        assert_eq!(Date::from_epoch_var("0").unwrap(), Date::utc(0).unwrap());
        assert_eq!(
            Date::from_epoch_var("253402300799").unwrap().rfc2822(),
            last
        );
        for s in ["253402300800", "banana", "-5", "@0"] {
            assert!(Date::from_epoch_var(s).is_err(), "{s}");
        }
    }

    #[test]
    fn bad_dates_are_refused() {
        for s in [
            "banana",
            "",
            "Thu, 31 Nov 2026 14:00:00 +0000",
            "Thu, 26 Nov 2026 25:00:00 +0000",
            "Thu, 26 Nov 2026 14:00:00",
            "Fox, 26 Nov 2026 14:00:00 +0000",
            "2026-02-30T00:00:00Z",
            "2026-11-26",
            "@x",
        ] {
            let e = Date::parse(s).unwrap_err().to_string();
            assert!(e.contains("not a date"), "{s}: {e}");
        }
    }

    #[test]
    fn header_values_are_refused_with_control_characters_or_without_an_address() {
        for bad in [
            "A <a@x.org>\nBcc: victim@y.org",
            "A <a@x.org>\r",
            "A\t<a@x.org>",
            "not an address",
            "A <not an address>",
            "<a@x.org>",
            "A <a@x.org",
            "A <@x.org>",
        ] {
            assert!(ident(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            ident(" A U Thor  <a@x.org> ").unwrap(),
            "A U Thor <a@x.org>"
        );
        assert_eq!(
            ident("Jérôme Glisse <j@x.com>").unwrap(),
            "Jérôme Glisse <j@x.com>"
        );
        assert!(recipient("a@x.org\nBcc: v@y.org").is_err());
        assert!(recipient("nobody").is_err());
        assert_eq!(recipient("a@x.org").unwrap(), "a@x.org");
        assert_eq!(recipient("Zoë <z@x.org>").unwrap(), "Zoë <z@x.org>");
        assert!(header_text("RFC\nBcc: v@y.org").is_err());
        assert_eq!(header_text("RFC PATCH").unwrap(), "RFC PATCH");
    }

    /// The header value as a reader sees it (RFC 2047 decoding).
    fn decoded(value: &str) -> String {
        rfc2047::decode_text(value.as_bytes(), rfc2047::utf8_charset).into_owned()
    }

    /// Every line of a header (name included) that holds an encoded-word is within 76 columns.
    fn short_lines(header: &str) -> bool {
        header.lines().all(|l| !l.contains("=?") || l.len() <= 76)
    }

    #[test]
    fn non_ascii_names_become_encoded_words() {
        assert_eq!(
            encode_address("Ada Example <a@x.org>", 6),
            "Ada Example <a@x.org>"
        );
        assert_eq!(
            encode_address("Jürgen Groß <jg@x.de>", 6),
            "=?UTF-8?Q?J=C3=BCrgen_Gro=C3=9F?= <jg@x.de>"
        );
        assert_eq!(
            encode_address("J. Doe <j@x.org>", 6),
            "\"J. Doe\" <j@x.org>"
        );
        assert_eq!(encode_address("list@x.org", 6), "list@x.org");
        // As MAINTAINERS gives it (quoted): no quote marks inside the encoded-word.
        assert_eq!(
            encode_address("\"Jérôme Glisse\" <jglisse@x.com>", 6),
            "=?UTF-8?Q?J=C3=A9r=C3=B4me_Glisse?= <jglisse@x.com>"
        );
        assert_eq!(
            encode_address("\"O\\\"Neil, Ann\" <a@x.org>", 6),
            "\"O\\\"Neil, Ann\" <a@x.org>"
        );
        assert_eq!(encode_words("[PATCH] mm: walk", 9), "[PATCH] mm: walk");
    }

    #[test]
    fn encoded_words_read_back_as_the_text_in_short_lines() {
        let long = "é".repeat(40);
        let names = [
            "Jérôme Glisse",
            "\"Jérôme Glisse\"",
            "Zoë (work) \"Z\", Ærø",
            "李小龙",
            "Ünïcödé 🦀 =?UTF-8?Q?x?= _under_score",
            long.as_str(),
        ];
        for name in names {
            let text = unquoted(name);
            let address = format!("{name} <someone.with.a.long.address@subdomain.example.org>");
            let from = format!("From: {}", encode_address(&address, 6));
            assert!(short_lines(&from), "{from}");
            assert_eq!(
                decoded(&from["From: ".len()..]),
                format!("{text} <someone.with.a.long.address@subdomain.example.org>"),
                "{from}"
            );
            // Inside an address the words are phrase words: no quote marks, no parentheses.
            for w in from.split_whitespace().filter(|w| w.starts_with("=?")) {
                assert!(!w.contains(['"', '(', ')', ',']), "{from}");
            }
            let subject = format!("[PATCH 01/12] mm: {text} {text}");
            let header = format!("Subject: {}", encode_words(&subject, 9));
            assert!(short_lines(&header), "{header}");
            assert_eq!(decoded(&header["Subject: ".len()..]), subject, "{header}");
        }
    }
}
