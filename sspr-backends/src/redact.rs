//! Hiding secrets in connection strings before they reach a `Debug` string, an error or a log.
//!
//! Two forms exist. A URL (`postgres://user:password@host/db?password=...`, `redis://...`)
//! and libpq's key/value form (`host=db password='a b c'`), whose values may be quoted with
//! `'` (backslash escapes `\'` and `\\`), spaced around `=`, or escaped unquoted (`a\ b`). The
//! key/value form is tokenised the way libpq does, so a quoted or escaped password is hidden
//! whole, not up to its first space. When in doubt (a string that does not tokenise, a URL
//! whose user info cannot be told from its host) more is hidden, never less.

use crate::conninfo;

/// Whether a key (or query parameter) names a secret: `password`, `sslpassword`, and
/// `pass` (redis-rs reads a Unix socket's password from `?pass=`).
fn is_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key.ends_with("password") || key == "pass"
}

/// `url` with its secrets replaced by `***`: the password of a URL's user info
/// (`postgres://sspr:***@db:5432/sspr`) and `password` query parameters; in a key/value
/// connection string (`host=db password=***`), the whole value of `password`.
pub(crate) fn url(url: &str) -> String {
    if conninfo::has_scheme(url) { uri(url) } else { key_values(url) }
}

fn uri(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return "***".into() };
    let mut out = format!("{scheme}://");
    // User info ends at the last '@'; the password begins at the first ':' before it. A
    // password may hold unencoded '/', '?', '#' or '@', so everything between is hidden (with
    // an '@' in the query and a port, this hides more than the password: never less).
    let rest = match rest.rfind('@') {
        Some(at) => {
            let (userinfo, host) = (rest.get(..at).unwrap_or(""), rest.get(at + 1..).unwrap_or(""));
            match userinfo.split_once(':') {
                Some((user, _)) => {
                    out.push_str(user);
                    out.push_str(":***@");
                    host
                }
                None => rest,
            }
        }
        None => rest,
    };
    // A password may also come as a query parameter.
    match rest.split_once('?') {
        Some((path, query)) => {
            out.push_str(path);
            out.push('?');
            out.push_str(&redact_query(query));
        }
        None => out.push_str(rest),
    }
    out
}

/// The query with secret parameters' values hidden. An unencoded `&` inside a password would
/// split it: the pieces after it that are not `key=value` are hidden with it.
fn redact_query(query: &str) -> String {
    let mut out = Vec::new();
    let mut hiding = false;
    for param in query.split('&') {
        let key = param.split_once('=').map(|(key, _)| key);
        let looks_like_param =
            key.is_some_and(|k| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        if hiding && !looks_like_param {
            continue;
        }
        hiding = false;
        match key {
            Some(key) if is_secret(key) => {
                out.push(format!("{key}=***"));
                hiding = true;
            }
            _ => out.push(param.to_owned()),
        }
    }
    out.join("&")
}

fn key_values(s: &str) -> String {
    let (entries, rest) = match conninfo::tokenise(s) {
        Ok(entries) => (entries, false),
        Err((entries, _)) => (entries, true),
    };
    let mut parts: Vec<String> = entries
        .iter()
        .map(|e| if is_secret(e.key) { format!("{}=***", e.key) } else { format!("{}={}", e.key, e.raw_value) })
        .collect();
    // The malformed remainder might be (or hold) a password: hidden as a whole.
    if rest {
        parts.push("***".into());
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::url;

    #[test]
    fn passwords_are_hidden_in_every_form() {
        assert_eq!(url("postgres://sspr:s3cret@db:5432/sspr"), "postgres://sspr:***@db:5432/sspr");
        assert_eq!(url("redis://:s3cret@cache:6379/0"), "redis://:***@cache:6379/0");
        assert_eq!(url("redis://cache:6379/"), "redis://cache:6379/");
        assert_eq!(
            url("postgres://u@db/sspr?password=s3cret&sslmode=require"),
            "postgres://u@db/sspr?password=***&sslmode=require"
        );
        assert_eq!(url("postgres://u:p@ss:w@rd@db/x"), "postgres://u:***@db/x");
        assert_eq!(url("host=db user=sspr password=s3cret dbname=sspr"), "host=db user=sspr password=*** dbname=sspr");
    }

    /// Every secret part of a password that a connection string quotes, escapes, or spaces
    /// out: none of it may survive redaction.
    #[test]
    fn quoted_escaped_and_spaced_passwords_are_hidden_whole() {
        let cases = [
            ("host=db password='a b c' dbname=x", ["a b c", "b c", " c'"].as_slice()),
            ("host=db password=\"x y\" dbname=x", &["x y", "y\""]),
            ("host=db password='it\\'s s3cret' dbname=x", &["s3cret", "it", "s'"]),
            ("host=db password = 'sp aced' dbname=x", &["sp aced", "aced"]),
            ("host=db password = hunter2 dbname=x", &["hunter2"]),
            ("host=db password=\t'tab bed' dbname=x", &["tab", "bed"]),
            ("host=db PASSWORD='UP per'", &["UP", "per"]),
            ("host=db password='unterminated secret", &["unterminated", "secret"]),
            ("host=db password=a\\ b dbname=x", &["a\\", " b "]),
            ("host=db password='x://y' dbname=x", &["x://y", "//y"]),
            ("postgres://u:pa/ss@db/x", &["pa/ss", "/ss"]),
            ("postgres://u:pa?ss@db/x", &["pa?ss", "?ss"]),
            ("postgres://u@db/x?password=a&b&sslmode=require", &["password=a", "&b&"]),
        ];
        for (input, secrets) in cases {
            let out = url(input);
            for secret in secrets {
                assert!(!out.contains(secret), "{input:?} -> {out:?} still holds {secret:?}");
            }
            assert!(out.contains("***"), "{input:?} -> {out:?}");
        }
        // What is not secret stays readable.
        assert_eq!(url("host=db password='a b c' dbname=x"), "host=db password=*** dbname=x");
        assert_eq!(url("host=db password = 'sp aced' port=5432"), "host=db password=*** port=5432");
        assert_eq!(url("host=db sslmode=verify-full dbname='my db'"), "host=db sslmode=verify-full dbname='my db'");
    }
}
