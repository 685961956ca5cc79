//! Showing an endpoint's URL (in a start-up line, a summary, an error) without the secrets a
//! URL can carry.

/// `url` as a log line may show it: user info (`user:password@`) becomes `***@`, the value of
/// every query parameter `***` (any of them may be a token: `?access_token=`, `?sig=`,
/// `?code=`), a fragment `#***`. Scheme, host, port and path stay: what an operator checks.
///
/// User info ends at the last `@` (a password may hold an unencoded `/`, `?` or `@`), so an
/// `@` further on (in the query) hides more than the user info: never less.
///
/// ```
/// use sspr_backends::endpoint::redacted;
/// assert_eq!(redacted("https://sspr:s3cret@collector:4318/v1/traces"), "https://***@collector:4318/v1/traces");
/// assert_eq!(redacted("https://gw.example.org/hook?token=s3cret&v=2"), "https://gw.example.org/hook?token=***&v=***");
/// assert_eq!(redacted("ldaps://dc1.corp.example.com"), "ldaps://dc1.corp.example.com");
/// ```
pub fn redacted(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, url),
    };
    let mut out = scheme.map_or_else(String::new, |s| format!("{s}://"));
    let rest = match rest.rfind('@') {
        Some(at) => {
            out.push_str("***@");
            rest.get(at + 1..).unwrap_or("")
        }
        None => rest,
    };
    let (rest, fragment) = match rest.split_once('#') {
        Some((rest, _)) => (rest, true),
        None => (rest, false),
    };
    match rest.split_once('?') {
        Some((path, query)) => {
            out.push_str(path);
            out.push('?');
            let params: Vec<String> = query
                .split('&')
                .map(|param| match param.split_once('=') {
                    Some((name, _))
                        if name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) =>
                    {
                        format!("{name}=***")
                    }
                    _ if param.is_empty() => String::new(),
                    _ => "***".to_owned(),
                })
                .collect();
            out.push_str(&params.join("&"));
        }
        None => out.push_str(rest),
    }
    if fragment {
        out.push_str("#***");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn user_info_query_values_and_fragments_are_hidden() {
        let cases = [
            ("https://user:s3cret@collector:4318/v1/traces", "https://***@collector:4318/v1/traces"),
            ("https://s3cret@collector/", "https://***@collector/"),
            ("https://u:pa/ss@w@rd@collector/x", "https://***@collector/x"),
            ("http://127.0.0.1:4318/v1/traces", "http://127.0.0.1:4318/v1/traces"),
            ("https://h/p?access_token=s3cret", "https://h/p?access_token=***"),
            ("https://h/p?s3cret", "https://h/p?***"),
            ("https://h/p?a=1&&b=s3cret#s3cret", "https://h/p?a=***&&b=***#***"),
            ("ldap://u:s3cret@dc1:389", "ldap://***@dc1:389"),
            ("collector:4318", "collector:4318"),
            ("u:s3cret@collector:4318", "***@collector:4318"),
        ];
        for (url, shown) in cases {
            assert_eq!(redacted(url), shown, "{url}");
            assert!(!redacted(url).contains("s3cret"));
        }
    }
}
