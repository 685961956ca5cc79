//! libpq connection strings, in the two forms libpq and tokio-postgres accept: a URL
//! (`postgres://user@host/db?sslmode=require`) or key/value pairs (`host=db sslmode=require`).
//! Tokenised here once, for hiding passwords (`redact`) and for taking out the TLS settings
//! the PostgreSQL store handles itself (`sslmode`, `sslrootcert`).

/// Whether `s` starts with a URL scheme and `://` (`postgres://`, `rediss://`). A key/value
/// string holding `://` inside a value (`password='x://y'`) does not.
pub(crate) fn has_scheme(s: &str) -> bool {
    let Some((scheme, _)) = s.split_once("://") else { return false };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// One `key=value` of a key/value connection string: the key, and the value as written
/// (quotes and escapes included).
pub(crate) struct Entry<'a> {
    /// The key.
    pub(crate) key: &'a str,
    /// The value as written.
    pub(crate) raw_value: &'a str,
}

/// Tokenise a libpq key/value string (`conninfo_parse`): keys end at whitespace or `=`;
/// spaces may surround `=`; a value is `'quoted'` (backslash escapes) or runs to the next
/// whitespace (backslash escapes). A value starting with `"` is taken as quoted too (libpq
/// would refuse it, but it must not leak on the way). `Err(n)`: the entries before the
/// malformed one, which starts at byte `n`.
pub(crate) fn tokenise(s: &str) -> Result<Vec<Entry<'_>>, (Vec<Entry<'_>>, usize)> {
    let mut entries = Vec::new();
    let mut chars = s.char_indices().peekable();
    let skip_space = |chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>| {
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
    };
    loop {
        skip_space(&mut chars);
        let Some(&(start, _)) = chars.peek() else { return Ok(entries) };
        let mut key_end = start;
        while let Some((i, c)) = chars.next_if(|(_, c)| !c.is_whitespace() && *c != '=') {
            key_end = i + c.len_utf8();
        }
        skip_space(&mut chars);
        if chars.next_if(|(_, c)| *c == '=').is_none() || key_end == start {
            return Err((entries, start));
        }
        skip_space(&mut chars);
        let value_start = chars.peek().map_or(s.len(), |&(i, _)| i);
        let mut value_end = value_start;
        match chars.next_if(|(_, c)| *c == '\'' || *c == '"') {
            Some((_, quote)) => loop {
                match chars.next() {
                    None => return Err((entries, start)),
                    Some((_, '\\')) => {
                        chars.next();
                    }
                    Some((i, c)) if c == quote => {
                        value_end = i + 1;
                        break;
                    }
                    Some(_) => {}
                }
            },
            None => {
                while let Some((i, c)) = chars.next_if(|(_, c)| !c.is_whitespace()) {
                    value_end = i + c.len_utf8();
                    if c == '\\'
                        && let Some((j, escaped)) = chars.next()
                    {
                        value_end = j + escaped.len_utf8();
                    }
                }
            }
        }
        let key = s.get(start..key_end).unwrap_or("");
        let raw_value = s.get(value_start..value_end).unwrap_or("");
        entries.push(Entry { key, raw_value });
    }
}

/// A key/value value as libpq reads it: quotes removed, backslash escapes resolved.
#[cfg(feature = "postgres")]
pub(crate) fn unquote(raw: &str) -> String {
    let inner = raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')).unwrap_or(raw);
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

/// A URL query value with `%XX` escapes decoded (`None` if they do not make UTF-8).
#[cfg(feature = "postgres")]
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Take the parameters named `names` out of connection string `s`: the string without them
/// (for tokio-postgres, which does not know them) and their values, decoded, in order. `None`
/// when `s` does not tokenise.
#[cfg(feature = "postgres")]
pub(crate) fn take_params(s: &str, names: &[&str]) -> Option<(String, Vec<(String, String)>)> {
    let wanted = |key: &str| names.iter().any(|n| n.eq_ignore_ascii_case(key));
    let mut taken = Vec::new();
    if has_scheme(s) {
        let Some((base, query)) = s.split_once('?') else { return Some((s.to_owned(), taken)) };
        let mut kept = Vec::new();
        for param in query.split('&') {
            match param.split_once('=') {
                Some((key, value)) if wanted(key) => taken.push((key.to_ascii_lowercase(), percent_decode(value)?)),
                _ => kept.push(param),
            }
        }
        let rest = if kept.is_empty() { base.to_owned() } else { format!("{base}?{}", kept.join("&")) };
        Some((rest, taken))
    } else {
        let entries = tokenise(s).ok()?;
        let mut kept = Vec::new();
        for entry in entries {
            if wanted(entry.key) {
                taken.push((entry.key.to_ascii_lowercase(), unquote(entry.raw_value)));
            } else {
                kept.push(format!("{}={}", entry.key, entry.raw_value));
            }
        }
        Some((kept.join(" "), taken))
    }
}

#[cfg(all(test, feature = "postgres"))]
mod tests {
    use super::take_params;

    #[test]
    fn tls_parameters_are_taken_out_of_both_forms() {
        let names = ["sslmode", "sslrootcert"];
        assert_eq!(
            take_params("postgres://u@db/x?sslmode=verify-full&application_name=a&sslrootcert=%2Fetc%2Fca.pem", &names),
            Some((
                "postgres://u@db/x?application_name=a".to_owned(),
                vec![("sslmode".into(), "verify-full".into()), ("sslrootcert".into(), "/etc/ca.pem".into())]
            ))
        );
        assert_eq!(take_params("postgres://u@db/x?sslmode=disable", &names).unwrap().0, "postgres://u@db/x");
        assert_eq!(
            take_params("host=db password='a b\\'c' sslmode = 'verify-ca' sslrootcert=/a\\ b.pem", &names),
            Some((
                "host=db password='a b\\'c'".to_owned(),
                vec![("sslmode".into(), "verify-ca".into()), ("sslrootcert".into(), "/a b.pem".into())]
            ))
        );
        assert_eq!(take_params("host=db password='unterminated", &names), None);
    }
}
