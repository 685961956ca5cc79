//! The web pages' catalogue ([`sspr_core::pages`]) as the bindings hand it over: one call
//! that takes a language by name and a message's variables as host values, and one that
//! negotiates the language from an `Accept-Language` header, so the Python and Node routers
//! say the portal's words in the portal's languages without a rule of their own; and
//! [`describe`], what a web user is told for an error (`sspr_core::pages::describe`) as
//! owned values every binding's error object carries.

use sspr_core::pages::{self, Arg};
use sspr_core::{Error, Locale};
use time::OffsetDateTime;

/// A message variable's value as a host language has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageArg {
    /// Text, put in as it is (a masked address, a reason) or a selector's key (`email`).
    Text(String),
    /// A count: formatted as a number, and chooses the plural form.
    Number(u64),
    /// An instant: written as a clock time for the variable `time` ("20:04 (UTC+1)"), as the
    /// language's date and time for any other (`at`), in the offset it carries.
    Time(OffsetDateTime),
}

/// Message `id` in the language named `locale` (`"de"`, `"fr-CH"`) with `args`.
///
/// # Errors
/// `InvalidInput` naming `locale` for a language sspr does not have (negotiate a header with
/// [`negotiate`], which never fails) and naming `id` for a message the catalogue does not
/// have: a typo in a router or a template fails loudly instead of showing `[id]`.
pub fn text(locale: &str, id: &str, args: &[(String, PageArg)]) -> Result<String, Error> {
    let locale: Locale = locale.parse()?;
    if !pages::has(id) {
        return Err(Error::InvalidInput { field: "id", reason: "no such message in the pages' catalogue".into() });
    }
    let args: Vec<(&str, Arg<'_>)> = args
        .iter()
        .map(|(name, value)| {
            let value = match value {
                PageArg::Text(text) => Arg::Text(text),
                PageArg::Number(n) => Arg::Number(*n),
                PageArg::Time(at) if name == "time" => Arg::ClockTime(*at),
                PageArg::Time(at) => Arg::DateTime(*at),
            };
            (name.as_str(), value)
        })
        .collect();
    Ok(pages::text(locale, id, &args))
}

/// The language to serve for an `Accept-Language` header (`None`: English), among `offered`
/// (`None`: every language sspr has), as its name (`"de"`). See [`Locale::negotiate`].
///
/// # Errors
/// `InvalidInput` naming `locale` when `offered` names a language sspr does not have.
pub fn negotiate(accept_language: Option<&str>, offered: Option<&[String]>) -> Result<&'static str, Error> {
    let offered: Vec<Locale> = match offered {
        Some(names) => names.iter().map(|n| n.parse()).collect::<Result<_, _>>()?,
        None => Locale::ALL.to_vec(),
    };
    Ok(Locale::negotiate(accept_language.unwrap_or(""), &offered).as_str())
}

/// A field of an [`ErrorAnswer`] as a host language has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerField {
    /// Text (a field's name, a reason, a time as RFC 3339).
    Text(String),
    /// A count (attempts left, seconds to wait).
    Number(u64),
}

/// What a web user is told for an error ([`sspr_core::pages::Answer`]), owned, with its
/// fields named as the routers' JSON names them: what each binding's error object carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorAnswer {
    /// The HTTP status.
    pub status: u16,
    /// The stable code of the answer (`wrong_pin`, `challenge_required`, ...).
    pub code: &'static str,
    /// The pages' catalogue message id.
    pub message_id: &'static str,
    /// The message's arguments, for [`text`] (a time as [`PageArg::Time`]).
    pub message_args: Vec<(String, PageArg)>,
    /// The fields a JSON front end acts on: `attempts_left`, `retry_after_seconds`, `until`
    /// (RFC 3339, `2026-03-03T09:00:00Z`), `field`, `reason`; only those that apply.
    pub fields: Vec<(&'static str, AnswerField)>,
}

/// What a web user is told for `error` (`sspr_core::pages::describe`), as owned values.
pub fn describe(error: &Error) -> ErrorAnswer {
    let answer = pages::describe(error);
    let message_args = answer
        .args
        .iter()
        .map(|(name, arg)| {
            let value = match *arg {
                Arg::Number(n) => PageArg::Number(n),
                Arg::DateTime(at) | Arg::ClockTime(at) => PageArg::Time(at),
                Arg::Text(text) => PageArg::Text(text.to_owned()),
                // (Arg is non-exhaustive: a new kind shows as its debug form until converted here.)
                other => PageArg::Text(format!("{other:?}")),
            };
            ((*name).to_owned(), value)
        })
        .collect();
    let mut fields = Vec::new();
    if let Some(n) = answer.attempts_left {
        fields.push(("attempts_left", AnswerField::Number(n.into())));
    }
    if let Some(n) = answer.retry_after_seconds {
        fields.push(("retry_after_seconds", AnswerField::Number(n)));
    }
    if let Some(until) = answer.until {
        let text = until.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| until.to_string());
        fields.push(("until", AnswerField::Text(text)));
    }
    if let Some(field) = answer.field {
        fields.push(("field", AnswerField::Text(field.to_owned())));
    }
    if let Some(reason) = answer.reason {
        fields.push(("reason", AnswerField::Text(reason.to_owned())));
    }
    ErrorAnswer { status: answer.status, code: answer.code, message_id: answer.message, message_args, fields }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_in_a_named_language_with_each_kind_of_value() {
        let args = [("attempts".to_owned(), PageArg::Number(1))];
        assert_eq!(text("de-CH", "wrong-pin", &args).unwrap(), "Der Code ist falsch. Noch 1 Versuch.");
        let at = time::macros::datetime!(2026-12-01 20:04 +01:00);
        let status = [("time".to_owned(), PageArg::Time(at)), ("attempts".to_owned(), PageArg::Number(3))];
        assert!(text("en", "pin-status", &status).unwrap().starts_with("Valid until 20:04 (UTC+1). 3 attempts"));
        let blocked = text("fr", "blocked", &[("at".to_owned(), PageArg::Time(at))]).unwrap();
        assert!(blocked.contains("1er décembre 2026"), "{blocked}");
    }

    #[test]
    fn an_unknown_language_or_message_is_refused_by_name() {
        let field = |e: Error| match e {
            Error::InvalidInput { field, .. } => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(text("pt", "reset-title", &[]).unwrap_err()), "locale");
        assert_eq!(field(text("en", "no-such-message", &[]).unwrap_err()), "id");
        assert_eq!(field(negotiate(Some("de"), Some(&["de".into(), "pt".into()])).unwrap_err()), "locale");
    }

    #[test]
    fn negotiation_falls_back_to_english_or_the_first_offered() {
        assert_eq!(negotiate(Some("de-DE,de;q=0.9"), None).unwrap(), "de");
        assert_eq!(negotiate(Some("pt-BR"), None).unwrap(), "en");
        assert_eq!(negotiate(None, None).unwrap(), "en");
        let offered = ["fr".to_owned(), "nl".to_owned()];
        assert_eq!(negotiate(Some("de"), Some(&offered)).unwrap(), "fr");
        assert_eq!(negotiate(Some("de, nl;q=0.2"), Some(&offered)).unwrap(), "nl");
    }
}
