//! Mail header values for the series: dates validated and written as RFC 2822 (as
//! `git format-patch` writes them), and non-ASCII display names and subjects encoded as RFC 2047
//! encoded-words, so the patches go to a list as they are.

use anyhow::{Result, bail};

const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A point in time with the zone offset it was written in (minutes east of UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date {
    pub unix: i64,
    pub offset_min: i32,
}

/// Why a date is refused though it reads.
const OUT_OF_RANGE: &str = "out of range: a patch's date lies in the years 1970 to 9999";

impl Date {
    /// Within 1970-01-01 and 9999-12-31 (UTC): what a Date: header and git take (a larger
    /// year has more than four digits; git's own dates start at the epoch).
    fn in_range(&self) -> bool {
        (0..=253_402_300_799).contains(&self.unix)
    }

    pub fn utc(unix: i64) -> Date {
        Date {
            unix,
            offset_min: 0,
        }
    }

    /// `--date`: RFC 2822 (`Thu, 26 Nov 2026 14:00:00 +0000`), ISO 8601
    /// (`2026-11-26T14:00:00Z`, `2026-11-26 14:00:00 +01:00`) or `@SECONDS` since the epoch.
    pub fn parse(s: &str) -> Result<Date> {
        let t = s.trim();
        let parsed = if let Some(secs) = t.strip_prefix('@') {
            secs.parse::<i64>().ok().map(Date::utc)
        } else if t.as_bytes().first().is_some_and(u8::is_ascii_digit) && t.contains('-') {
            iso8601(t)
        } else {
            rfc2822(t)
        };
        match parsed {
            Some(d) if !d.in_range() => bail!("{s:?}: {OUT_OF_RANGE}"),
            Some(d) => Ok(d),
            None => bail!(
                "{s:?}: not a date (give RFC 2822 like \"Thu, 26 Nov 2026 14:00:00 +0000\", ISO 8601 like 2026-11-26T14:00:00Z, or @SECONDS)"
            ),
        }
    }

    /// `SOURCE_DATE_EPOCH`: whole seconds since the epoch, nothing else.
    pub fn from_epoch_var(s: &str) -> Result<Date> {
        match s.trim().parse::<i64>() {
            Ok(secs) if secs >= 0 && Date::utc(secs).in_range() => Ok(Date::utc(secs)),
            _ => bail!("SOURCE_DATE_EPOCH={s:?}: not a number of seconds since 1970"),
        }
    }

    /// RFC 2822, in the zone it was given in: `Thu, 26 Nov 2026 14:00:00 +0000`.
    pub fn rfc2822(&self) -> String {
        let local = self.unix + i64::from(self.offset_min) * 60;
        let days = local.div_euclid(86_400);
        let secs = local.rem_euclid(86_400);
        let (y, m, d) = civil(days);
        let sign = if self.offset_min < 0 { '-' } else { '+' };
        let off = self.offset_min.abs();
        format!(
            "{}, {d:02} {} {y} {:02}:{:02}:{:02} {sign}{:02}{:02}",
            DAYS[days.rem_euclid(7) as usize],
            MONTHS[(m - 1) as usize],
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            off / 60,
            off % 60
        )
    }
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// (year, month, day) → days since 1970-01-01; None for a day the month does not have.
fn days_from_civil(y: i64, m: i64, d: i64) -> Option<i64> {
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let len = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d < 1 || d > len[(m - 1) as usize] {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

fn num(s: &str, digits: std::ops::RangeInclusive<usize>) -> Option<i64> {
    (digits.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// `HH:MM[:SS]` → seconds into the day.
fn time_of_day(s: &str) -> Option<i64> {
    let parts: Vec<&str> = s.split(':').collect();
    let (h, m) = (num(parts[0], 2..=2)?, num(parts.get(1)?, 2..=2)?);
    let sec = match parts.get(2) {
        Some(x) => num(x, 2..=2)?,
        None => 0,
    };
    (parts.len() <= 3 && h < 24 && m < 60 && sec < 61).then_some(h * 3600 + m * 60 + sec)
}

/// `+0100`, `-05:30`, `Z`, `UT`, `GMT` → minutes east of UTC.
fn zone(s: &str) -> Option<i32> {
    match s {
        "Z" | "UT" | "UTC" | "GMT" => return Some(0),
        _ => {}
    }
    let sign = match s.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = s[1..].chars().filter(|&c| c != ':').collect();
    let (h, m) = (num(digits.get(..2)?, 2..=2)?, num(digits.get(2..)?, 2..=2)?);
    (digits.len() == 4 && h < 24 && m < 60).then_some(sign * (h * 60 + m) as i32)
}

fn date(y: i64, m: i64, d: i64, tod: i64, offset_min: i32) -> Option<Date> {
    let days = days_from_civil(y, m, d)?;
    Some(Date {
        unix: days * 86_400 + tod - i64::from(offset_min) * 60,
        offset_min,
    })
}

fn rfc2822(s: &str) -> Option<Date> {
    let s = match s.split_once(',') {
        Some((dow, rest)) if DAYS.contains(&dow.trim()) => rest,
        Some(_) => return None,
        None => s,
    };
    let w: Vec<&str> = s.split_whitespace().collect();
    let [d, mon, y, t, z] = w.as_slice() else {
        return None;
    };
    let m = MONTHS.iter().position(|x| x == mon)? as i64 + 1;
    date(num(y, 4..=4)?, m, num(d, 1..=2)?, time_of_day(t)?, zone(z)?)
}

fn iso8601(s: &str) -> Option<Date> {
    let (day, rest) = s.split_at(s.find(['T', ' '])?);
    let rest = rest[1..].trim();
    let ymd: Vec<&str> = day.split('-').collect();
    let [y, m, d] = ymd.as_slice() else {
        return None;
    };
    let split = rest.find(['Z', '+', '-', ' ']).unwrap_or(rest.len());
    let (t, z) = rest.split_at(split);
    let z = z.trim();
    date(
        num(y, 4..=4)?,
        num(m, 2..=2)?,
        num(d, 2..=2)?,
        time_of_day(t)?,
        if z.is_empty() { 0 } else { zone(z)? },
    )
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

/// A header value with non-ASCII text as RFC 2047 `Q` encoded-words (as `git format-patch`
/// writes them); ASCII passes unchanged.
pub fn encode_words(text: &str) -> String {
    if text.is_ascii() {
        return text.to_string();
    }
    // Encoded-words stay under 76 columns: a chunk of at most ~45 input bytes each,
    // cut at character boundaries.
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in text.chars() {
        let mut enc = String::new();
        let mut buf = [0u8; 4];
        for &b in c.encode_utf8(&mut buf).as_bytes() {
            match b {
                b' ' => enc.push('_'),
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'!' | b'*' | b'+' | b'-' | b'/' => {
                    enc.push(b as char)
                }
                _ => enc.push_str(&format!("={b:02X}")),
            }
        }
        if cur.len() + enc.len() > 60 {
            out.push(format!("=?UTF-8?q?{cur}?="));
            cur.clear();
        }
        cur.push_str(&enc);
    }
    out.push(format!("=?UTF-8?q?{cur}?="));
    out.join("\n ")
}

/// `Name <mail>` with the display name encoded when it is not ASCII (and quoted when it holds
/// characters an address header gives meaning to).
pub fn encode_address(addr: &str) -> String {
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
    let name = if !text.is_ascii() {
        encode_words(&text)
    } else if text.contains([
        '.', ',', '@', ':', ';', '(', ')', '"', '\\', '<', '>', '[', ']',
    ]) {
        format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        text
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

    #[test]
    fn dates_are_read_in_three_forms_and_written_as_rfc2822() {
        let want = "Thu, 26 Nov 2026 14:00:00 +0000";
        for s in [
            want,
            "26 Nov 2026 14:00:00 GMT",
            "2026-11-26T14:00:00Z",
            "2026-11-26 15:00 +01:00",
            "@1795701600",
        ] {
            assert_eq!(
                Date::parse(s).map(|d| Date::utc(d.unix).rfc2822()).ok(),
                Some(want.to_string()),
                "{s}"
            );
        }
        // The zone it was given in is kept.
        assert_eq!(
            Date::parse("2026-11-26 15:00:00 +0100").unwrap().rfc2822(),
            "Thu, 26 Nov 2026 15:00:00 +0100"
        );
        assert_eq!(Date::utc(0).rfc2822(), "Thu, 01 Jan 1970 00:00:00 +0000");
        assert_eq!(
            Date::utc(951_782_400).rfc2822(),
            "Tue, 29 Feb 2000 00:00:00 +0000"
        );
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
            assert!(Date::parse(s).is_err(), "{s}");
        }
        for s in [
            "@99999999999999",
            "@-1",
            "1969-12-31T23:59:59Z",
            "Fri, 31 Dec 1969 23:59:59 +0000",
        ] {
            let e = Date::parse(s).unwrap_err().to_string();
            assert!(e.contains("years 1970 to 9999"), "{s}: {e}");
        }
        assert_eq!(
            Date::parse("@253402300799").unwrap().rfc2822(),
            "Fri, 31 Dec 9999 23:59:59 +0000"
        );
        assert!(Date::from_epoch_var("253402300800").is_err());
        assert!(Date::from_epoch_var("banana").is_err());
        assert!(Date::from_epoch_var("-5").is_err());
        assert_eq!(Date::from_epoch_var("0").unwrap(), Date::utc(0));
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

    #[test]
    fn non_ascii_names_become_encoded_words() {
        assert_eq!(
            encode_address("Ada Example <a@x.org>"),
            "Ada Example <a@x.org>"
        );
        assert_eq!(
            encode_address("Jürgen Groß <jg@x.de>"),
            "=?UTF-8?q?J=C3=BCrgen_Gro=C3=9F?= <jg@x.de>"
        );
        assert_eq!(encode_address("J. Doe <j@x.org>"), "\"J. Doe\" <j@x.org>");
        assert_eq!(encode_address("list@x.org"), "list@x.org");
        // As MAINTAINERS gives it (quoted): no quote marks inside the encoded-word.
        assert_eq!(
            encode_address("\"Jérôme Glisse\" <jglisse@x.com>"),
            "=?UTF-8?q?J=C3=A9r=C3=B4me_Glisse?= <jglisse@x.com>"
        );
        assert_eq!(
            encode_address("\"O\\\"Neil, Ann\" <a@x.org>"),
            "\"O\\\"Neil, Ann\" <a@x.org>"
        );
        let long = encode_words(&"é".repeat(40));
        assert!(long.lines().all(|l| l.len() <= 76), "{long}");
        assert!(long.lines().count() > 1);
    }
}
