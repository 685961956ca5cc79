//! Escaping untrusted text for Graph queries, and for the DN-like names groups get.

/// `text` as an OData string literal: in single quotes, each `'` doubled (OData ABNF
/// `SQUOTE-in-string`). The URL encoding of the whole query is the HTTP client's.
pub(crate) fn string_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// `text` for use inside a double-quoted `$search` clause: `\` and `"` escaped with `\`.
pub(crate) fn search_term(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '"') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `text` as an RFC 4514 attribute value, so that a group named `Sales, EMEA` stays one
/// name when the engine reads `CN=…` as a DN.
pub(crate) fn rdn_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let last = text.chars().count().saturating_sub(1);
    for (i, c) in text.chars().enumerate() {
        let escape = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=')
            || (i == 0 && matches!(c, ' ' | '#'))
            || (i == last && c == ' ');
        if escape {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_doubled_and_nothing_else_changes() {
        assert_eq!(string_literal("o'brien@contoso.com"), "'o''brien@contoso.com'");
        assert_eq!(string_literal("' or 1 eq 1 or 'a' eq '"), "''' or 1 eq 1 or ''a'' eq '''");
        assert_eq!(string_literal("a&b=c"), "'a&b=c'");
    }

    #[test]
    fn search_terms_escape_quotes_and_backslashes() {
        assert_eq!(search_term(r#"a"b\c"#), r#"a\"b\\c"#);
    }

    #[test]
    fn group_names_stay_one_value() {
        assert_eq!(rdn_value("Sales, EMEA"), "Sales\\, EMEA");
        assert_eq!(rdn_value(" a=b "), "\\ a\\=b\\ ");
    }
}
