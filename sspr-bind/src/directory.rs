//! A directory user a host language describes: a Python `DirectoryUser(...)`, a C
//! `SsprDirectoryUser`, what a JavaScript or uniffi `Directory.findUser` returns. Its mailbox
//! is the one part with a rule of its own; the same rule in every binding.

use sspr_core::{BackendError, BackendErrorKind, EmailAddress, Error};

/// The directory mailbox of a user a host builds: none, or an e-mail address.
///
/// # Errors
/// `InvalidInput` naming `mail` when it is not an e-mail address (the message never holds
/// the value).
pub fn directory_mail(mail: Option<&str>) -> Result<Option<EmailAddress>, Error> {
    mail.map(|m| {
        EmailAddress::parse(m)
            .map_err(|_| Error::InvalidInput { field: "mail", reason: "not an e-mail address".to_owned() })
    })
    .transpose()
}

/// The same rule for a user a host directory *returned* (`find_user`): a bad mailbox means
/// the directory is broken, a `Rejected` [`BackendError`] naming the part, never its value.
///
/// # Errors
/// As said.
pub fn returned_directory_mail(mail: Option<&str>) -> Result<Option<EmailAddress>, BackendError> {
    directory_mail(mail)
        .map_err(|_| BackendError::new(BackendErrorKind::Rejected, "a directory user's mail is not an e-mail address"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mailbox_is_an_address_or_none() {
        assert_eq!(directory_mail(None).ok(), Some(None));
        let mail = directory_mail(Some("jane@example.org")).ok().flatten().map(|m| m.as_str().to_owned());
        assert_eq!(mail.as_deref(), Some("jane@example.org"));
    }

    #[test]
    fn a_bad_mailbox_is_named_never_shown() {
        let Err(Error::InvalidInput { field, reason }) = directory_mail(Some("secret-not-an-address")) else {
            panic!("a bad mailbox must be InvalidInput")
        };
        assert_eq!(field, "mail");
        assert!(!reason.contains("secret"));
        let Err(e) = returned_directory_mail(Some("secret-not-an-address")) else {
            panic!("a bad returned mailbox must be refused")
        };
        assert_eq!(e.kind(), BackendErrorKind::Rejected);
        assert!(!e.to_string().contains("secret"));
    }
}
