//! The bot challenge on the reset start page (`[bot_challenge]`), against a local stand-in of
//! the provider's `siteverify` (the real endpoints cannot be reached from the test machines):
//! the widget and its CSP only when configured and only on the start page, the token passed to
//! `begin_reset`, and the answers for a missing, refused and uncheckable token, alike for
//! known and unknown logins.

use sspr_backends::captcha::testing::{GOOD_TOKEN as GOOD, StandIn};

use crate::support::{Browser, config, portal};

const DEFAULT_CSP: &str =
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const SITE_KEY: &str = "0x4AAAAAAA-portal-site-key";

/// The shared siteverify stand-in (`sspr_backends::captcha::testing`): `GOOD` passes for
/// reset.example.org, anything else is refused; `down` answers 503 to everything.
async fn stand_in(down: bool) -> StandIn {
    let stand_in = StandIn::start().await.unwrap();
    if down {
        stand_in.answer(503, "");
    }
    stand_in
}

async fn portal_with(provider: &str, stand_in: &StandIn) -> sspr_portal::Portal {
    let url = stand_in.url();
    let toml = format!(
        "[policy]\nmin_response_ms = 0\n[store]\nkind = \"memory\"\n[bot_challenge]\nprovider = \"{provider}\"\n\
         site_key = \"{SITE_KEY}\"\nsecret = \"stand-in-secret\"\nverify_url = \"{url}\"\n\
         hostnames = [\"reset.example.org\"]\n"
    );
    sspr_portal::Portal::build(&config(&toml)).await.unwrap()
}

fn csp(answer: &crate::support::Answer) -> String {
    answer.headers["content-security-policy"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn without_a_challenge_the_portal_stays_script_free_and_its_csp_unchanged() {
    let portal = portal().await;
    let mut browser = Browser::new(&portal);
    let page = browser.get("/passwordreset").await;
    assert_eq!(csp(&page), DEFAULT_CSP);
    assert!(!page.body.contains("<script"));
    // A token posted anyway is ignored: the reset begins as always.
    let csrf = page.csrf();
    let methods = browser
        .submit(
            "/passwordreset/begin",
            &[("csrf", &csrf), ("login", "jane.doe@example.org"), ("cf-turnstile-response", "x")],
        )
        .await;
    assert!(methods.body.contains("name=\"method\""), "{}", methods.main());
}

#[tokio::test]
async fn the_widget_and_its_csp_are_the_configured_providers_only_on_the_start_page() {
    for (provider, script, class, origin) in [
        (
            "turnstile",
            "https://challenges.cloudflare.com/turnstile/v0/api.js",
            "cf-turnstile",
            "https://challenges.cloudflare.com",
        ),
        ("hcaptcha", "https://js.hcaptcha.com/1/api.js", "h-captcha", "https://*.hcaptcha.com"),
        ("recaptcha", "https://www.google.com/recaptcha/api.js", "g-recaptcha", "https://www.gstatic.com/recaptcha/"),
    ] {
        let portal = portal_with(provider, &stand_in(false).await).await;
        let mut browser = Browser::new(&portal);
        let page = browser.get("/passwordreset").await;
        assert!(
            page.body.contains(&format!("<script src=\"{script}\" async defer></script>")),
            "{provider}: {}",
            page.main()
        );
        assert!(page.body.contains(&format!("<div class=\"{class}\" data-sitekey=\"{SITE_KEY}\">")), "{provider}");
        assert_eq!(page.body.matches("<script").count(), 1, "{provider}: one script, the provider's");
        let policy = csp(&page);
        let script_src = policy.split(';').find(|d| d.trim().starts_with("script-src")).unwrap().trim().to_owned();
        let frame_src = policy.split(';').find(|d| d.trim().starts_with("frame-src")).unwrap().trim().to_owned();
        assert!(script_src.contains(origin) && frame_src.starts_with("frame-src https://"), "{provider}: {policy}");
        // Only that provider's origins: no 'self', no inline script, no other provider.
        for other in ["'unsafe-inline'", "'self'", "*;", "hcaptcha", "cloudflare", "google"] {
            let expected = matches!(
                (other, provider),
                ("hcaptcha", "hcaptcha") | ("cloudflare", "turnstile") | ("google", "recaptcha")
            );
            assert_eq!(script_src.contains(other), expected, "{provider}: {other} in {script_src}");
        }
        assert!(policy.contains("default-src 'none'") && policy.contains("frame-ancestors 'none'"), "{policy}");
        // Every other page keeps the script-free policy.
        for path in ["/", "/passwordchange", "/no/such/page"] {
            let other = browser.get(path).await;
            assert_eq!(csp(&other), DEFAULT_CSP, "{provider}: {path}");
            assert!(!other.body.contains("<script"), "{provider}: {path}");
        }
    }
}

#[tokio::test]
async fn the_token_reaches_siteverify_and_a_missing_or_refused_one_begins_nothing_alike_for_every_login() {
    let stand_in = stand_in(false).await;
    let portal = portal_with("turnstile", &stand_in).await;
    let mut answers = Vec::new();
    for login in ["jane.doe@example.org", "nobody.here@example.org"] {
        for token in [None, Some("forged")] {
            let mut browser = Browser::new(&portal);
            let page = browser.get("/passwordreset").await;
            let csrf = page.csrf();
            let mut fields = vec![("csrf", csrf.as_str()), ("login", login)];
            if let Some(token) = token {
                fields.push(("cf-turnstile-response", token));
            }
            let after = browser.submit("/passwordreset/begin", &fields).await;
            assert!(!after.body.contains("name=\"method\""), "{login} {token:?} began a reset");
            assert!(after.body.contains("name=\"login\""), "the start page again");
            answers.push(after.alert().unwrap());
        }
    }
    assert_eq!(answers[0], answers[2], "a missing token: the same answer for a known and an unknown login");
    assert_eq!(answers[1], answers[3], "a refused token: the same answer for a known and an unknown login");
    assert!(answers[0].contains("not a robot"), "{answers:?}");
    assert_ne!(answers[0], answers[1]);

    let mut browser = Browser::with_ip(&portal, "198.51.100.20");
    let csrf = browser.get("/passwordreset").await.csrf();
    let methods = browser
        .submit(
            "/passwordreset/begin",
            &[("csrf", &csrf), ("login", "jane.doe@example.org"), ("cf-turnstile-response", GOOD)],
        )
        .await;
    assert!(methods.body.contains("name=\"method\""), "{}", methods.main());
    // The methods page is not the start page: no widget, the script-free policy.
    assert_eq!(csp(&methods), DEFAULT_CSP);
    let forms = stand_in.forms();
    let last = forms.last().unwrap();
    assert_eq!((last["response"].as_str(), last["remoteip"].as_str()), (GOOD, "198.51.100.20"));
    assert_eq!(last["secret"], "stand-in-secret");
}

#[tokio::test]
async fn a_provider_that_is_down_fails_closed() {
    let portal = portal_with("recaptcha", &stand_in(true).await).await;
    let mut browser = Browser::new(&portal);
    let csrf = browser.get("/passwordreset").await.csrf();
    let after = browser
        .submit(
            "/passwordreset/begin",
            &[("csrf", &csrf), ("login", "jane.doe@example.org"), ("g-recaptcha-response", GOOD)],
        )
        .await;
    assert!(!after.body.contains("name=\"method\""), "began a reset while the provider was down");
    assert!(after.alert().unwrap().contains("cannot be verified right now"), "{:?}", after.alert());
}
