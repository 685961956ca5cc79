//! The e-mail a notice becomes: a text part and an HTML part, rendered with MiniJinja from
//! two templates, `notice.txt` and `notice.html`. sspr ships both (`sspr-backends/templates/`);
//! a deployment overrides either by putting a file of that name in `template_dir`, read when
//! the notifier is built (no recompiling), and brands them with the settings below.
//!
//! The HTML template is auto-escaped (MiniJinja escapes every value in a `.html` template:
//! `& < > " ' /`),
//! so the notice's text, the organisation name or a footer cannot inject markup; colours
//! must be `#rgb`/`#rrggbb` and the logo an `https://` URL, since they land inside `style`
//! and `src` attributes, where escaping alone does not stop CSS or a `javascript:` URL.
//!
//! Template variables: `subject`, `body` (the notice's text), `paragraphs` (the body split at
//! blank lines), `lang` (`en`, `de`, ...), `organisation`, `logo_url`, `colours.primary`,
//! `colours.text`, `support_contact` (shown as written: it carries its own label, in the
//! deployment's words), `footer`.

use std::path::PathBuf;

use minijinja::{Environment, context};
use serde::Deserialize;
use sspr_core::{BackendError, BackendErrorKind, Locale};
use zeroize::Zeroizing;

/// The two template names a `template_dir` may override.
pub const TEMPLATE_NAMES: [&str; 2] = ["notice.txt", "notice.html"];

/// How notices look: the organisation's branding and, optionally, templates of its own.
///
/// ```
/// let branding: sspr_backends::smtp::MailBranding = toml::from_str(r##"
///     organisation = "Example Corp"
///     logo_url = "https://www.example.org/logo.png"
///     primary_colour = "#004488"
///     support_contact = "IT support: +44 20 7946 0000, it-help@example.org"
///     footer = "Example Corp, 1 Example Street, London"
///     template_dir = "/etc/sspr/mail"
/// "##).unwrap();
/// assert_eq!(branding.primary_colour, "#004488");
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailBranding {
    /// The organisation's name, in the header (and the logo's `alt`). Default empty.
    pub organisation: String,
    /// The logo, an `https://` URL. Default none: the name is shown instead.
    pub logo_url: Option<String>,
    /// The header's colour, `#rgb` or `#rrggbb`. Default `#1f4e79`.
    pub primary_colour: String,
    /// The text colour, `#rgb` or `#rrggbb`. Default `#222222`.
    pub text_colour: String,
    /// How to reach the helpdesk, shown as written under the text (so it says its own label:
    /// "IT support: +44 20 7946 0000"). Default none.
    pub support_contact: Option<String>,
    /// A last line (postal address, legal notice). Default none.
    pub footer: Option<String>,
    /// A directory holding `notice.txt` and/or `notice.html` to use instead of sspr's (a
    /// path that is no directory, or one holding neither, is refused).
    pub template_dir: Option<PathBuf>,
}

impl Default for MailBranding {
    fn default() -> Self {
        Self {
            organisation: String::new(),
            logo_url: None,
            primary_colour: "#1f4e79".into(),
            text_colour: "#222222".into(),
            support_contact: None,
            footer: None,
            template_dir: None,
        }
    }
}

fn rejected(message: impl Into<String>) -> BackendError {
    BackendError::new(BackendErrorKind::Rejected, message)
}

fn is_colour(text: &str) -> bool {
    text.strip_prefix('#').is_some_and(|hex| matches!(hex.len(), 3 | 6) && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The loaded templates and branding of one notifier.
#[derive(Debug)]
pub struct MailTemplates {
    env: Environment<'static>,
    branding: MailBranding,
}

impl MailTemplates {
    /// Check the branding and load the templates (sspr's, then any of `template_dir`).
    ///
    /// # Errors
    /// `Rejected` naming the setting: a colour that is not `#rgb`/`#rrggbb`, a logo URL that
    /// is not `https://`, a `template_dir` that is not a directory or holds neither template,
    /// a template file that cannot be read or does not parse.
    pub fn load(branding: &MailBranding) -> Result<Self, BackendError> {
        for (name, value) in [("primary_colour", &branding.primary_colour), ("text_colour", &branding.text_colour)] {
            if !is_colour(value) {
                return Err(rejected(format!("mail branding: {name} must be #rgb or #rrggbb")));
            }
        }
        if let Some(url) = &branding.logo_url
            && (!url.starts_with("https://")
                || url.len() > 2048
                || url.chars().any(|c| c.is_whitespace() || c.is_control()))
        {
            return Err(rejected("mail branding: logo_url must be an https:// URL"));
        }
        if let Some(dir) = &branding.template_dir {
            // A typo in the path, or files named otherwise, would otherwise give sspr's own
            // e-mails without a word.
            if !dir.is_dir() {
                return Err(rejected(format!("mail branding: template_dir {} is not a directory", dir.display())));
            }
            if !TEMPLATE_NAMES.iter().any(|name| dir.join(name).exists()) {
                return Err(rejected(format!(
                    "mail branding: template_dir {} holds neither notice.txt nor notice.html",
                    dir.display()
                )));
            }
        }
        let mut env = Environment::new();
        for (name, source) in [
            ("notice.txt", include_str!("../templates/notice.txt")),
            ("notice.html", include_str!("../templates/notice.html")),
        ] {
            let own = match &branding.template_dir {
                Some(dir) => {
                    let path = dir.join(name);
                    match std::fs::read_to_string(&path) {
                        Ok(text) => Some(text),
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                        Err(e) => return Err(rejected(format!("mail template {}: {e}", path.display()))),
                    }
                }
                None => None,
            };
            let loaded = match own {
                Some(text) => env.add_template_owned(name, text),
                None => env.add_template(name, source),
            };
            loaded.map_err(|e| rejected(format!("mail template {name}: {e}")))?;
        }
        Ok(Self { env, branding: branding.clone() })
    }

    /// The text and HTML parts of a notice with `subject` and `body` in `locale`. Both are
    /// wiped from memory when dropped (a PIN notice holds the PIN); the copies MiniJinja
    /// holds while rendering (its values and buffers) are not.
    ///
    /// # Errors
    /// `Rejected` when a template fails to render (an override calling what does not exist).
    pub fn render(
        &self,
        subject: &str,
        body: &str,
        locale: Locale,
    ) -> Result<(Zeroizing<String>, Zeroizing<String>), BackendError> {
        let b = &self.branding;
        // MiniJinja values own their text: these copies are not wiped (see above).
        let paragraphs: Vec<String> =
            body.split("\n\n").map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned).collect();
        let ctx = context! {
            subject => subject.to_owned(),
            body => body.to_owned(),
            paragraphs,
            lang => locale.as_str(),
            organisation => b.organisation.clone(),
            logo_url => b.logo_url.clone(),
            colours => context! { primary => b.primary_colour.clone(), text => b.text_colour.clone() },
            support_contact => b.support_contact.clone(),
            footer => b.footer.clone(),
        };
        let render = |name: &str| {
            self.env
                .get_template(name)
                .and_then(|t| t.render(&ctx))
                .map(Zeroizing::new)
                .map_err(|e| rejected(format!("mail template {name}: {e}")))
        };
        Ok((render("notice.txt")?, render("notice.html")?))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

    use super::*;

    const HOSTILE: &str = "<script>alert(1)</script> & \"Co\"";

    #[test]
    fn sspr_templates_brand_both_parts_and_escape_every_value_in_html() {
        let branding = MailBranding {
            organisation: HOSTILE.into(),
            support_contact: Some("Helpdesk: <b>+44 20 7946 0000</b>".into()),
            footer: Some("Example & Co <footer>".into()),
            ..MailBranding::default()
        };
        let templates = MailTemplates::load(&branding).unwrap();
        let (text, html) =
            templates.render("Subject <i>", "Your code is 12345678.\n\n<a href=x>y</a>", Locale::Fr).unwrap();
        assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt; &amp; &quot;Co&quot;"), "{}", html.as_str());
        assert!(
            !html.contains("<script>")
                && !html.contains("<b>")
                && !html.contains("<a href")
                && !html.contains("<footer>")
        );
        assert!(html.contains("<p style=\"margin:0 0 12px;line-height:1.5\">Your code is 12345678.</p>"), "paragraphs");
        assert!(html.contains("Subject &lt;i&gt;") && html.contains("<html lang=\"fr\">"));
        assert!(html.contains("Helpdesk: &lt;b&gt;+44 20 7946 0000&lt;&#x2f;b&gt;"));
        assert!(html.contains("background:#1f4e79"), "the default colour");
        // The text part is text: nothing to escape, nothing escaped.
        assert!(text.starts_with("Your code is 12345678.\n\n<a href=x>y</a>"), "{}", text.as_str());
        assert!(text.contains("Helpdesk: <b>+44 20 7946 0000</b>") && text.contains("Example & Co <footer>"));
    }

    #[test]
    fn a_template_directory_overrides_without_recompiling() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("notice.html"), "<div class=\"own\">{{ organisation }}: {{ body }}</div>")
            .unwrap();
        let branding = MailBranding {
            organisation: HOSTILE.into(),
            template_dir: Some(dir.path().to_owned()),
            ..MailBranding::default()
        };
        let templates = MailTemplates::load(&branding).unwrap();
        let (text, html) = templates.render("S", "Code <1234>", Locale::De).unwrap();
        assert_eq!(
            html.as_str(),
            "<div class=\"own\">&lt;script&gt;alert(1)&lt;&#x2f;script&gt; &amp; &quot;Co&quot;: Code &lt;1234&gt;</div>",
            "the override is used, and still escapes"
        );
        assert!(text.starts_with("Code <1234>"), "no notice.txt in the directory: sspr's own");
        // A template that does not parse is refused when the notifier is built.
        std::fs::write(dir.path().join("notice.txt"), "{{ body ").unwrap();
        let err = MailTemplates::load(&branding).unwrap_err();
        assert!(err.to_string().contains("notice.txt"), "{err}");
    }

    #[test]
    fn a_template_directory_that_is_missing_or_holds_no_template_is_refused() {
        // A typo in the path, or files named otherwise (`notice.htm`, `notice.html.j2`): the
        // deployment's own e-mails were silently replaced by sspr's.
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("mial");
        std::fs::write(dir.path().join("notice.htm"), "<p>own</p>").unwrap();
        for path in [missing, dir.path().to_owned()] {
            let branding = MailBranding { template_dir: Some(path.clone()), ..MailBranding::default() };
            let err = MailTemplates::load(&branding).map(|_| ()).unwrap_err();
            assert_eq!(err.kind(), BackendErrorKind::Rejected);
            assert!(err.to_string().contains("template_dir"), "{}: {err}", path.display());
        }
    }

    #[test]
    fn colours_and_the_logo_cannot_carry_css_or_script() {
        for (branding, field) in [
            (
                MailBranding {
                    primary_colour: "red;background:url(https://evil.example/)".into(),
                    ..MailBranding::default()
                },
                "primary_colour",
            ),
            (MailBranding { text_colour: "#12345".into(), ..MailBranding::default() }, "text_colour"),
            (MailBranding { logo_url: Some("javascript:alert(1)".into()), ..MailBranding::default() }, "logo_url"),
            (
                MailBranding { logo_url: Some("http://example.org/logo.png".into()), ..MailBranding::default() },
                "logo_url",
            ),
        ] {
            let err = MailTemplates::load(&branding).unwrap_err();
            assert!(err.to_string().contains(field), "{field}: {err}");
        }
        let ok = MailBranding {
            primary_colour: "#0A8".into(),
            logo_url: Some("https://www.example.org/logo.png?v=1&x=\"y\"".into()),
            ..MailBranding::default()
        };
        let (_, html) = MailTemplates::load(&ok).unwrap().render("S", "B", Locale::En).unwrap();
        assert!(
            html.contains("src=\"https:&#x2f;&#x2f;www.example.org&#x2f;logo.png?v=1&amp;x=&quot;y&quot;\""),
            "{}",
            html.as_str()
        );
    }
}
