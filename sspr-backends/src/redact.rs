//! Hiding secrets in configuration values before they reach a `Debug` string or a log.

/// `url` with the password of its user info replaced by `***`
/// (`postgres://sspr:***@db:5432/sspr`); for a key-value connection string
/// (`host=db password=secret`), the value of `password` is replaced instead.
pub(crate) fn url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        // The authority ends at the first '/', '?' or '#'; user info ends at its last '@'.
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        let mut out = format!("{scheme}://");
        match authority.rsplit_once('@') {
            Some((userinfo, host)) => {
                let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
                let hidden = if userinfo.contains(':') { ":***" } else { "" };
                out.push_str(&format!("{user}{hidden}@{host}"));
            }
            None => out.push_str(authority),
        }
        // A password may also come as a query parameter.
        out.push_str(&query(tail));
        out
    } else {
        url.split_whitespace()
            .map(|part| match part.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                _ => part.to_owned(),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn query(tail: &str) -> String {
    let Some((path, query)) = tail.split_once('?') else { return tail.to_owned() };
    let params = query
        .split('&')
        .map(|p| match p.split_once('=') {
            Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
            _ => p.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&");
    format!("{path}?{params}")
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
}
