//! Masked contact details, as shown to an anonymous caller: enough for the user to recognise
//! their own address, too little to learn it. Real and decoy masks have one shape.

use crate::input::{EmailAddress, PhoneNumber};

/// Stars between the visible parts; fixed, so a mask never reveals a length.
const STARS: &str = "***";
const PHONE_STARS: &str = "*******";

/// `jane.doe@mail.example.org` -> `j***@m***.org`.
///
/// ```
/// use sspr_core::{mask, EmailAddress};
/// let email = EmailAddress::parse("jane.doe@example.org").unwrap();
/// assert_eq!(mask::email(&email), "j***@e***.org");
/// ```
pub fn email(address: &EmailAddress) -> String {
    let text = address.as_str();
    let (local, domain) = text.rsplit_once('@').unwrap_or((text, ""));
    let tld = domain.rsplit('.').next().unwrap_or("");
    email_from_parts(first_char(local), first_char(domain), tld)
}

/// `+447400900123` -> `+44 ******* 23`.
///
/// ```
/// use sspr_core::{mask, PhoneNumber};
/// let phone = PhoneNumber::parse("+44 7400 900123").unwrap();
/// assert_eq!(mask::phone(&phone), "+44 ******* 23");
/// ```
pub fn phone(number: &PhoneNumber) -> String {
    let digits = number.as_str();
    let last_two = digits.get(digits.len().saturating_sub(2)..).unwrap_or("");
    phone_from_parts(number.country_code(), last_two)
}

// Both built in one allocation of the final size (`format!` grows its string a few times).
pub(crate) fn email_from_parts(local_first: char, domain_first: char, tld: &str) -> String {
    let mut out =
        String::with_capacity(local_first.len_utf8() + domain_first.len_utf8() + 2 * STARS.len() + 2 + tld.len());
    out.push(local_first);
    out.push_str(STARS);
    out.push('@');
    out.push(domain_first);
    out.push_str(STARS);
    out.push('.');
    out.push_str(tld);
    out
}

pub(crate) fn phone_from_parts(country_code: &str, last_two: &str) -> String {
    let mut out = String::with_capacity(3 + country_code.len() + PHONE_STARS.len() + last_two.len());
    out.push('+');
    out.push_str(country_code);
    out.push(' ');
    out.push_str(PHONE_STARS);
    out.push(' ');
    out.push_str(last_two);
    out
}

fn first_char(text: &str) -> char {
    text.chars().next().map_or('*', |c| c.to_ascii_lowercase())
}
