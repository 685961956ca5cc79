//! The registration page's OpenID Connect sign-in, and a whole reset, on a Microsoft Graph
//! directory: against the Graph/Entra stand-in (sspr-backends/tests/graph/standin.rs), which
//! is also the OpenID provider. Verified against the stand-in only.

use std::collections::HashMap;

use axum::http::{StatusCode, header};

use crate::standin::{Member, Provider, StandIn, Tamper, Tenant, rsa_key, user};
use crate::support::{Browser, config, temp_dir};

const GRAPH_SECRET: &str = "graph~app-secret";
pub(crate) const PORTAL_APP: &str = "portal-app-id";
pub(crate) const PORTAL_SECRET: &str = "portal~secret";
const DEMO_PASSWORD: &str = sspr_portal::demo::DEMO_PASSWORD;
pub(crate) const REDIRECT: &str = "http://127.0.0.1:8080/passwordnotification/oidc/callback";

/// The group whose members may use `/admin` in these tests' portal: its display name, and
/// its object id, by which `admin_groups` names it (on Graph names are not unique).
const ADMINS: &str = "SSPR Admins";
const ADMINS_ID: &str = "group-admins";

pub(crate) async fn standin(upns: &[&str]) -> StandIn {
    let users = upns
        .iter()
        .map(|u| {
            let mut person = user(u, &format!("{u} Person"));
            if u.starts_with("admin") {
                person.members_of = vec![Member::Group { id: ADMINS_ID.into(), name: ADMINS.into() }];
            }
            person
        })
        .collect();
    let standin = StandIn::start(Tenant {
        users,
        client_id: "sspr-graph-app".into(),
        client_secret: Some(GRAPH_SECRET.into()),
        ..Tenant::default()
    })
    .await;
    let dir = temp_dir();
    let (_, key) = rsa_key(&dir, "idp");
    let (_, other_key) = rsa_key(&dir, "other");
    standin.with(|t| {
        t.oidc = Some(Provider {
            client_id: PORTAL_APP.into(),
            client_secret: PORTAL_SECRET.into(),
            redirect_uri: REDIRECT.into(),
            signed_in: upns.first().map(|u| (*u).to_owned()),
            key,
            other_key,
            kid: "k1".into(),
            codes: HashMap::new(),
            tamper: None,
        })
    });
    standin
}

async fn portal(standin: &StandIn) -> sspr_portal::Portal {
    portal_with_admins(standin, ADMINS_ID).await
}

/// The portal with `admin_groups = [admins]`.
async fn portal_with_admins(standin: &StandIn, admins: &str) -> sspr_portal::Portal {
    let url = standin.url();
    let toml = format!(
        "admin_groups = [\"{admins}\"]\n[policy]\nmin_response_ms = 0\nallow_unlock_only = false\n\
         [store]\nkind = \"memory\"\n\
         [directory]\nkind = \"graph\"\ntenant_id = \"{tenant}\"\nclient_id = \"sspr-graph-app\"\n\
         client_secret = \"{GRAPH_SECRET}\"\nauthority_url = \"{url}\"\ngraph_url = \"{url}\"\n\
         [contacts]\nkind = \"graph\"\n\
         [oidc]\nissuer = \"{issuer}\"\nclient_id = \"{PORTAL_APP}\"\nclient_secret = \"{PORTAL_SECRET}\"\nredirect_uri = \"{REDIRECT}\"\n",
        tenant = standin.tenant_id,
        issuer = standin.issuer(),
    );
    sspr_portal::Portal::build(&config(&toml)).await.unwrap()
}

/// The browser's trip to the provider and back: the portal's redirect, the provider's
/// "login page" (the stand-in's signed-in user), the redirect to the callback.
/// The helpdesk enables self-service for `login` (the engine's admin call, as /admin makes it).
async fn enable(portal: &sspr_portal::Portal, login: &str) {
    let helpdesk = sspr_core::Actor::Admin("helpdesk".into());
    portal.sspr().set_enabled(&helpdesk, login, true, &sspr_core::RequestContext::default()).await.unwrap();
}

pub(crate) async fn through_the_provider(browser: &mut Browser) -> crate::support::Answer {
    through_the_provider_from(browser, "/passwordnotification/oidc").await
}

/// The same trip, started at `start` (`/admin/oidc` for an administrator).
async fn through_the_provider_from(browser: &mut Browser, start: &str) -> crate::support::Answer {
    let start = browser.get(start).await;
    assert_eq!(start.status, StatusCode::SEE_OTHER);
    let to_provider = start.headers[header::LOCATION].to_str().unwrap().to_owned();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let web = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let at_provider = web.get(&to_provider).send().await.unwrap();
    assert_eq!(at_provider.status(), 302);
    let back = reqwest::Url::parse(at_provider.headers()["location"].to_str().unwrap()).unwrap();
    let callback = format!("{}?{}", back.path(), back.query().unwrap());
    let landed = browser.get(&callback).await;
    if landed.status == StatusCode::SEE_OTHER {
        let to = landed.headers[header::LOCATION].to_str().unwrap().to_owned();
        return browser.get(&to).await;
    }
    landed
}

#[tokio::test]
async fn a_user_signs_in_with_openid_connect_and_registers_an_entra_method() {
    let standin = standin(&["vera@contoso.com"]).await;
    let portal = portal(&standin).await;
    enable(&portal, "vera@contoso.com").await;
    let mut browser = Browser::new(&portal);
    let page = browser.get("/passwordnotification").await;
    assert!(page.body.contains("href=\"/passwordnotification/oidc\""), "a sign-in link, no password form");
    assert!(!page.body.contains("name=\"password\""));
    let signed_in = through_the_provider(&mut browser).await;
    assert!(signed_in.main().contains("vera@contoso.com"), "{}", signed_in.main());
    let csrf = signed_in.csrf();
    let saved = browser
        .submit("/passwordnotification/save", &[("csrf", &csrf), ("email", "vera.home@example.org"), ("phone", "")])
        .await;
    assert!(saved.alert().is_none(), "{:?}", saved.alert());
    // The new address proves itself with the code sent to it before Entra gets it.
    portal.sspr().flush_deliveries().await;
    let code = portal.outbox().unwrap().last_proof_code_to("vera.home@example.org").unwrap();
    let confirmed = browser.submit("/passwordnotification/confirm", &[("csrf", &csrf), ("code", &code)]).await;
    assert!(confirmed.alert().is_none(), "{:?}", confirmed.alert());
    let vera = standin.with(|t| t.users[0].clone());
    assert_eq!(vera.email_methods.iter().map(|(_, a)| a.as_str()).collect::<Vec<_>>(), ["vera.home@example.org"]);
}

#[tokio::test]
async fn a_tampered_id_token_or_a_foreign_state_signs_nobody_in() {
    let standin = standin(&["walt@contoso.com"]).await;
    let portal = portal(&standin).await;
    for tamper in [Tamper::ForeignKey, Tamper::Nonce, Tamper::Audience, Tamper::Expired] {
        standin.with(|t| t.oidc.as_mut().unwrap().tamper = Some(tamper));
        let mut browser = Browser::new(&portal);
        let page = through_the_provider(&mut browser).await;
        assert!(page.body.contains("href=\"/passwordnotification/oidc\""), "{tamper:?}: still signed out");
        assert!(page.alert().is_some(), "{tamper:?}: an error is shown");
    }
    // Login CSRF: an attacker's own code and state, sent to a victim with a session of their own.
    standin.with(|t| t.oidc.as_mut().unwrap().tamper = None);
    let mut attacker = Browser::new(&portal);
    let start = attacker.get("/passwordnotification/oidc").await;
    let to_provider = start.headers[header::LOCATION].to_str().unwrap().to_owned();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let web = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let back = web.get(&to_provider).send().await.unwrap().headers()["location"].to_str().unwrap().to_owned();
    let back = reqwest::Url::parse(&back).unwrap();
    let mut victim = Browser::new(&portal);
    victim.get("/passwordnotification/oidc").await; // the victim has a sign-in of their own under way
    let landed = victim.get(&format!("{}?{}", back.path(), back.query().unwrap())).await;
    let page = victim.get(landed.headers[header::LOCATION].to_str().unwrap()).await;
    assert!(page.body.contains("href=\"/passwordnotification/oidc\""), "the victim is not signed in as the attacker");
}

/// A validly signed token for this app whose `preferred_username` is the victim's login but
/// whose `oid` is another account's (a UPN is not a stable identity; the object id is): the
/// portal must not sign the visitor in as the directory user of that login.
#[tokio::test]
async fn a_token_naming_the_user_with_another_object_id_signs_nobody_in() {
    let standin = standin(&["vera@contoso.com"]).await;
    let portal = portal(&standin).await;
    enable(&portal, "vera@contoso.com").await;
    standin.with(|t| t.oidc.as_mut().unwrap().tamper = Some(Tamper::ForeignObjectId));
    let mut browser = Browser::new(&portal);
    browser.get("/passwordnotification").await;
    let page = through_the_provider(&mut browser).await;
    assert!(page.body.contains("href=\"/passwordnotification/oidc\""), "still signed out: {}", page.main());
    assert!(!page.main().contains("vera@contoso.com Person"), "{}", page.main());
    // The same sign-in with the user's own object id succeeds, so the refusal above is the oid's.
    standin.with(|t| t.oidc.as_mut().unwrap().tamper = None);
    let signed_in = through_the_provider(&mut browser).await;
    assert!(signed_in.main().contains("vera@contoso.com"), "{}", signed_in.main());
}

#[tokio::test]
async fn the_callback_without_a_session_cookie_bounces_once_through_a_same_site_page() {
    let standin = standin(&["xena@contoso.com"]).await;
    let portal = portal(&standin).await;
    let mut browser = Browser::new(&portal);
    let page = browser.get("/passwordnotification/oidc/callback?code=abc&state=xyz").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("http-equiv=\"refresh\""));
    assert!(page.body.contains("/passwordnotification/oidc/callback?code=abc&amp;state=xyz&amp;bounced=true"));
    // Bounced and still no session: an error, no loop.
    let again = browser.get("/passwordnotification/oidc/callback?code=abc&state=xyz&bounced=true").await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_whole_reset_on_the_graph_directory() {
    let standin = standin(&["yuri@contoso.com"]).await;
    let portal = portal(&standin).await;
    enable(&portal, "yuri@contoso.com").await;
    // Registered through the OIDC-signed-in page (sspr's first registration: usable at once).
    let mut user = Browser::new(&portal);
    let page = through_the_provider(&mut user).await;
    let csrf = page.csrf();
    user.submit("/passwordnotification/save", &[("csrf", &csrf), ("email", "yuri.home@example.org"), ("phone", "")])
        .await;
    portal.sspr().flush_deliveries().await;
    let code = portal.outbox().unwrap().last_proof_code_to("yuri.home@example.org").unwrap();
    user.submit("/passwordnotification/confirm", &[("csrf", &csrf), ("code", &code)]).await;
    let mut visitor = Browser::new(&portal);
    let start = visitor.get("/passwordreset").await;
    let begun = visitor.submit("/passwordreset/begin", &[("csrf", &start.csrf()), ("login", "yuri@contoso.com")]).await;
    let sent = visitor.submit("/passwordreset/send", &[("csrf", &begun.csrf()), ("method", "email")]).await;
    portal.sspr().flush_deliveries().await;
    let pin =
        portal.outbox().unwrap().last_pin_to("yuri.home@example.org").expect("the PIN went to the registered address");
    let verified = visitor.submit("/passwordreset/verify", &[("csrf", &sent.csrf()), ("pin", &pin)]).await;
    let done = visitor.submit("/passwordreset/complete", &[("csrf", &verified.csrf()), ("mode", "temporary")]).await;
    let yuri = standin.with(|t| t.users[0].clone());
    assert!(yuri.force_change, "set through passwordProfile with forceChangePasswordNextSignIn");
    assert!(done.body.contains(&yuri.password), "the temporary password is shown once");
}

#[tokio::test]
async fn an_administrator_signs_in_to_admin_with_a_fresh_openid_connect_sign_in() {
    let standin = standin(&["admin.ann@contoso.com", "zoe@contoso.com"]).await;
    let portal = portal(&standin).await;
    let mut admin = Browser::new(&portal);
    let page = admin.get("/admin").await;
    assert!(page.body.contains("href=\"/admin/oidc\""), "a sign-in link: {}", page.main());
    assert!(!page.body.contains("name=\"password\""), "no password form: Graph cannot check one");
    let signed_in = through_the_provider_from(&mut admin, "/admin/oidc").await;
    assert!(signed_in.main().contains("admin.ann@contoso.com Person"), "{}", signed_in.main());
    assert!(signed_in.body.contains("action=\"/admin/signout\""), "{}", signed_in.main());
    // The admin's work: enable self-service for Zoe, who may then sign in to register.
    let user_page = admin.get("/admin/user?login=zoe%40contoso.com").await;
    let enabled = admin
        .submit("/admin/enable", &[("csrf", &user_page.csrf()), ("login", "zoe@contoso.com"), ("enabled", "true")])
        .await;
    assert!(enabled.alert().is_none(), "{:?}", enabled.alert());
    let status = portal.sspr().status("zoe@contoso.com").await.unwrap();
    assert!(status.enabled, "enabled by the admin signed in with OpenID Connect");
    // The admin's own registration sign-in is refused: an admin is privileged.
    standin.with(|t| t.oidc.as_mut().unwrap().signed_in = Some("admin.ann@contoso.com".into()));
    let mut as_user = Browser::new(&portal);
    let page = through_the_provider(&mut as_user).await;
    assert!(page.body.contains("href=\"/passwordnotification/oidc\""), "{}", page.main());
}

#[tokio::test]
async fn admin_refuses_a_user_a_stale_provider_session_and_a_foreign_object_id() {
    let standin = standin(&["admin.bea@contoso.com", "yves@contoso.com"]).await;
    let portal = portal(&standin).await;
    let signed_out = |page: &crate::support::Answer| page.body.contains("href=\"/admin/oidc\"");
    // A valid, fresh sign-in of somebody in no admin group.
    standin.with(|t| t.oidc.as_mut().unwrap().signed_in = Some("yves@contoso.com".into()));
    let mut browser = Browser::new(&portal);
    let page = through_the_provider_from(&mut browser, "/admin/oidc").await;
    assert!(signed_out(&page) && page.alert().is_some(), "not an admin: {}", page.main());
    // The admin, but the provider answered from a half-hour-old session (it ignored
    // prompt=login and max_age, or the visitor stripped them): not fresh, refused.
    standin.with(|t| t.oidc.as_mut().unwrap().signed_in = Some("admin.bea@contoso.com".into()));
    for tamper in [Tamper::StaleAuthTime, Tamper::NoAuthTime, Tamper::ForeignObjectId] {
        standin.with(|t| t.oidc.as_mut().unwrap().tamper = Some(tamper));
        let mut browser = Browser::new(&portal);
        let page = through_the_provider_from(&mut browser, "/admin/oidc").await;
        assert!(signed_out(&page) && page.alert().is_some(), "{tamper:?}: {}", page.main());
        assert!(browser.get("/admin/user?login=yves%40contoso.com").await.status == StatusCode::SEE_OTHER);
    }
    // The same admin with none of those: signed in, so the refusals above were theirs.
    standin.with(|t| t.oidc.as_mut().unwrap().tamper = None);
    let mut browser = Browser::new(&portal);
    let page = through_the_provider_from(&mut browser, "/admin/oidc").await;
    assert!(!signed_out(&page), "{}", page.main());
}

/// With `[oidc]` configured, signing in means the provider's checks (its MFA, conditional
/// access): a password posted to the old sign-in forms must not skip them, even where the
/// directory could check it (here the demo directory, with its demo passwords).
#[tokio::test]
async fn with_openid_connect_configured_no_password_signs_in() {
    let standin = standin(&["admin.cy@contoso.com"]).await;
    let toml = format!(
        "[policy]\nmin_response_ms = 0\n[store]\nkind = \"memory\"\n\
         [oidc]\nissuer = \"{issuer}\"\nclient_id = \"{PORTAL_APP}\"\nclient_secret = \"{PORTAL_SECRET}\"\nredirect_uri = \"{REDIRECT}\"\ntrust_username = true\n",
        issuer = standin.issuer(),
    );
    let portal = sspr_portal::Portal::build(&config(&toml)).await.unwrap();
    // The attack works on the same portal without [oidc]: the demo admin's password opens /admin.
    let plain = crate::support::portal().await;
    for (portal, expect_in) in [(&plain, true), (&portal, false)] {
        let mut browser = Browser::new(portal);
        let csrf = browser.get("/passwordreset").await.csrf();
        let admin = browser
            .submit("/admin/signin", &[("csrf", &csrf), ("login", "helpdesk@example.org"), ("password", DEMO_PASSWORD)])
            .await;
        assert_eq!(admin.body.contains("action=\"/admin/signout\""), expect_in, "{}", admin.main());
        let mut browser = Browser::new(portal);
        let csrf = browser.get("/passwordreset").await.csrf();
        let user = browser
            .submit(
                "/passwordnotification/signin",
                &[("csrf", &csrf), ("login", "jane.doe@example.org"), ("password", DEMO_PASSWORD)],
            )
            .await;
        assert_eq!(user.body.contains("action=\"/passwordnotification/signout\""), expect_in, "{}", user.main());
    }
}

/// An administrator who leaves (taken out of the admin group, or the account disabled) must
/// lose `/admin` at once, not when their session ends (`session_max_minutes`, up to a week):
/// a helpdesk recovery code alone takes over any enabled user. Every admin page and action
/// asks the directory again. The stand-in is the directory, so the change is the
/// directory's own.
#[tokio::test]
async fn an_administrator_taken_out_of_the_group_or_disabled_loses_admin_at_once() {
    let standin = standin(&["admin.cleo@contoso.com", "zack@contoso.com"]).await;
    let portal = portal(&standin).await;
    let signed_out = |page: &crate::support::Answer| page.body.contains("href=\"/admin/oidc\"");
    let zack = "zack@contoso.com";
    for leave in ["group", "account"] {
        standin.with(|t| {
            t.users[0].members_of = vec![Member::Group { id: "group-admins".into(), name: ADMINS.into() }];
            t.users[0].account_enabled = true;
        });
        let mut admin = Browser::new(&portal);
        let page = through_the_provider_from(&mut admin, "/admin/oidc").await;
        assert!(!signed_out(&page), "{leave}: the admin signs in: {}", page.main());
        let user_page = admin.get("/admin/user?login=zack%40contoso.com").await;
        assert!(user_page.body.contains("action=\"/admin/recovery\""), "{leave}: {}", user_page.main());
        let csrf = user_page.csrf();
        // What the admin can do while they are one: a recovery code for Zack.
        enable(&portal, zack).await;
        let issued = admin.submit("/admin/recovery", &[("csrf", &csrf), ("login", zack), ("deliver", "show")]).await;
        assert!(issued.body.contains("id=\"recovery-code\""), "{leave}: {}", issued.main());
        let helpdesk = sspr_core::Actor::Admin("helpdesk".into());
        let ctx = sspr_core::RequestContext::default();
        portal.sspr().set_enabled(&helpdesk, zack, false, &ctx).await.unwrap();
        // The directory says the admin is no longer one.
        standin.with(|t| match leave {
            "group" => t.users[0].members_of.clear(),
            _ => t.users[0].account_enabled = false,
        });
        for path in ["/admin", "/admin/user?login=zack%40contoso.com", "/admin/report", "/admin/reports"] {
            let page = admin.get(path).await;
            let page = if page.status == StatusCode::SEE_OTHER {
                let to = page.headers[header::LOCATION].to_str().unwrap().to_owned();
                admin.get(&to).await
            } else {
                page
            };
            assert!(signed_out(&page), "{leave}: {path} still served to a former admin: {}", page.main());
        }
        let enabled = admin.submit("/admin/enable", &[("csrf", &csrf), ("login", zack), ("enabled", "true")]).await;
        assert!(!portal.sspr().status(zack).await.unwrap().enabled, "{leave}: a former admin enabled a user");
        assert!(signed_out(&enabled) || enabled.status == StatusCode::FORBIDDEN, "{leave}: {}", enabled.main());
        enable(&portal, zack).await;
        let issued = admin.submit("/admin/recovery", &[("csrf", &csrf), ("login", zack), ("deliver", "show")]).await;
        portal.sspr().set_enabled(&helpdesk, zack, false, &ctx).await.unwrap();
        assert!(!issued.body.contains("id=\"recovery-code\""), "{leave}: a former admin got a recovery code");
        let unblock = admin.post("/admin/unblock", &[("csrf", &csrf), ("login", zack)]).await;
        assert_eq!(unblock.headers.get(header::LOCATION).map(|l| l.to_str().unwrap()), Some("/admin"), "{leave}");
    }
}

/// An administrator whose account has expired (AD `accountExpires`) must not get into `/admin`
/// through the provider either: one rule says who is an active administrator for the password
/// sign-in, the OpenID Connect sign-in and every admin page. The OIDC sign-in once checked the
/// group and `disabled` only, so an expired admin was signed in (a new session id) and logged
/// as "an administrator signed in", to be signed out again at the next admin page. The demo
/// directory (from a seed file) is the directory here: the Graph directory has no expiry.
#[tokio::test]
async fn an_expired_administrator_cannot_sign_in_to_admin_with_openid_connect() {
    let standin = standin(&["admin.exp@contoso.com", "admin.ok@contoso.com"]).await;
    let dir = temp_dir();
    let seed = dir.join("users.json");
    let admin = |login: &str, expired: bool| {
        serde_json::json!({"login": login, "display_name": format!("{login} Person"),
            "dn": format!("uid={login},ou=it,dc=example,dc=org"),
            "groups": [sspr_portal::config::DEMO_ADMIN_GROUP], "state": {"disabled": false, "expired": expired, "locked": false}})
    };
    let users = serde_json::json!([admin("admin.exp@contoso.com", true), admin("admin.ok@contoso.com", false)]);
    std::fs::write(&seed, users.to_string()).unwrap();
    let toml = format!(
        "[policy]\nmin_response_ms = 0\n[store]\nkind = \"memory\"\n[directory]\nkind = \"demo\"\nseed_file = \"{seed}\"\n\
         [oidc]\nissuer = \"{issuer}\"\nclient_id = \"{PORTAL_APP}\"\nclient_secret = \"{PORTAL_SECRET}\"\nredirect_uri = \"{REDIRECT}\"\ntrust_username = true\n",
        seed = seed.display(),
        issuer = standin.issuer(),
    );
    let portal = sspr_portal::Portal::build(&config(&toml)).await.unwrap();
    let signed_out = |page: &crate::support::Answer| page.body.contains("href=\"/admin/oidc\"");
    for (login, expired) in [("admin.exp@contoso.com", true), ("admin.ok@contoso.com", false)] {
        standin.with(|t| t.oidc.as_mut().unwrap().signed_in = Some(login.into()));
        let mut browser = Browser::new(&portal);
        let started = browser.get("/admin/oidc").await;
        assert_eq!(started.status, StatusCode::SEE_OTHER, "{login}");
        let before = browser.cookie();
        let to_provider = started.headers[header::LOCATION].to_str().unwrap().to_owned();
        let _ = rustls::crypto::ring::default_provider().install_default();
        let web = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let back = web.get(&to_provider).send().await.unwrap().headers()["location"].to_str().unwrap().to_owned();
        let back = reqwest::Url::parse(&back).unwrap();
        let landed = browser.get(&format!("{}?{}", back.path(), back.query().unwrap())).await;
        assert_eq!(landed.status, StatusCode::SEE_OTHER, "{login}");
        // A sign-in moves the session to a new id; a refusal keeps it.
        assert_eq!(browser.cookie() == before, expired, "{login}: signed in = {}", browser.cookie() != before);
        let page = browser.get(landed.headers[header::LOCATION].to_str().unwrap()).await;
        assert_eq!(signed_out(&page), expired, "{login}: {}", page.main());
        assert_eq!(page.alert().is_some(), expired, "{login}: the refusal is said: {}", page.main());
    }
}

/// R.48: Entra display names are not unique, and by default any user may create a security
/// or Microsoft 365 group (its owner, who adds members, themselves included). Mallory makes
/// one named like the admin group, or named with the admin group's object id, joins it and
/// signs in to `/admin`: the directory listed her group as `CN=<its name>`, which matched
/// `admin_groups` whether it named the group by display name or by id.
#[tokio::test]
async fn a_group_a_user_made_named_like_the_admin_group_or_its_id_opens_no_admin() {
    for (admin_groups, name) in [(ADMINS, ADMINS), (ADMINS_ID, ADMINS_ID)] {
        let standin = standin(&["mallory@contoso.com", "admin.ann@contoso.com"]).await;
        standin.with(|t| {
            t.users[0].members_of = vec![Member::Group { id: "group-mallorys-own".into(), name: name.into() }];
        });
        let portal = portal_with_admins(&standin, admin_groups).await;
        let mut browser = Browser::new(&portal);
        let page = through_the_provider_from(&mut browser, "/admin/oidc").await;
        assert!(
            !page.body.contains("action=\"/admin/signout\""),
            "admin_groups = [{admin_groups:?}], her group named {name:?}: Mallory is an administrator"
        );
    }
    // The administrator, in the group of that id, still signs in.
    let standin = standin(&["admin.ann@contoso.com"]).await;
    let portal = portal(&standin).await;
    let mut browser = Browser::new(&portal);
    let page = through_the_provider_from(&mut browser, "/admin/oidc").await;
    assert!(page.body.contains("action=\"/admin/signout\""), "{}", page.main());
}

/// R.49: on a directory other than Graph nothing tied the provider's account to the
/// directory's: the ID token's `preferred_username` alone named the user. A provider account
/// whose username is another person's login (a provider that lets users choose it, a guest,
/// a cloud-only account named like an on-premises user) signed in as that person: here the
/// stand-in's `jane.doe@example.org`, a fresh object id, became the demo directory's Jane and
/// was shown her contacts. The portal now refuses `[oidc]` on such a directory unless the
/// operator says how the account is tied (`subject_attribute`, LDAP) or states that no
/// provider account can choose its username (`trust_username`).
#[tokio::test]
async fn a_provider_account_named_like_a_directory_user_does_not_become_them() {
    let standin = standin(&["jane.doe@example.org"]).await;
    let demo = |options: &str| {
        format!(
            "[policy]\nmin_response_ms = 0\n[store]\nkind = \"memory\"\n\
             [oidc]\nissuer = \"{issuer}\"\nclient_id = \"{PORTAL_APP}\"\nclient_secret = \"{PORTAL_SECRET}\"\nredirect_uri = \"{REDIRECT}\"\n{options}",
            issuer = standin.issuer(),
        )
    };
    let jane = |page: &crate::support::Answer| page.main().contains("jane@private.example");
    // As deployed before: [oidc] on the demo directory, neither option. (`from_toml` refuses
    // that file now; the portal's start-up checks the configuration again.)
    let mut before = config(&demo("trust_username = true\n"));
    before.oidc.as_mut().unwrap().trust_username = false;
    let Err(refused) = sspr_portal::Config::from_toml(&demo("")) else { panic!("[oidc] parsed with neither option") };
    assert!(refused.to_string().contains("trust_username"), "{refused}");
    match sspr_portal::Portal::build(&before).await {
        Ok(portal) => {
            let mut browser = Browser::new(&portal);
            let page = through_the_provider(&mut browser).await;
            assert!(!jane(&page), "the provider's account was signed in as Jane: {}", page.main());
            panic!("the portal started with [oidc] on the demo directory and neither option");
        }
        Err(refused) => {
            let refused = refused.to_string();
            assert!(refused.contains("subject_attribute") && refused.contains("trust_username"), "{refused}");
        }
    }
    // The demo directory holds no attribute to compare the token with.
    let mut attribute = config(&demo("trust_username = true\n"));
    let oidc = attribute.oidc.as_mut().unwrap();
    (oidc.trust_username, oidc.subject_attribute) = (false, Some("employeeNumber".into()));
    let Err(refused) = sspr_portal::Portal::build(&attribute).await else {
        panic!("subject_attribute accepted on the demo directory");
    };
    assert!(refused.to_string().contains("subject_attribute"), "{refused}");
    // The operator's statement that no provider account can choose its username: the
    // username alone then names the user, as before.
    let portal = sspr_portal::Portal::build(&config(&demo("trust_username = true\n"))).await.unwrap();
    let mut browser = Browser::new(&portal);
    let page = through_the_provider(&mut browser).await;
    assert!(jane(&page), "{}", page.main());
}
