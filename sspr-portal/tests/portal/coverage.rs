//! The registration report and reminders on `/admin/report`, and the re-confirmation of a
//! signed-in user's contacts on `/passwordnotification`.

use sspr_core::notice::Message;
use sspr_core::{ContactStore, UserId};

use crate::support::{Browser, portal};

const PASSWORD: &str = sspr_portal::demo::DEMO_PASSWORD;
const STAFF: &str = "ou%3Dstaff%2Cdc%3Dexample%2Cdc%3Dorg";

/// The HTML of the table with `id`, tags included.
fn table(answer: &crate::support::Answer, id: &str) -> Option<String> {
    let start = answer.body.find(&format!("id=\"{id}\""))?;
    let end = answer.body[start..].find("</table>")? + start;
    Some(answer.body[start..end].to_owned())
}

async fn sign_in(browser: &mut Browser, page: &str, login: &str) -> crate::support::Answer {
    let csrf = browser.get(page).await.csrf();
    browser.submit(&format!("{page}/signin"), &[("csrf", &csrf), ("login", login), ("password", PASSWORD)]).await
}

#[tokio::test]
async fn an_admin_reads_the_report_and_reminds_users_once() {
    let portal = portal().await;
    // Not an admin: no report, no reminders.
    let mut user = Browser::new(&portal);
    sign_in(&mut user, "/passwordnotification", "jane.doe@example.org").await;
    let refused = user.get(&format!("/admin/report?ous={STAFF}")).await;
    assert!(table(&refused, "report-counts").is_none(), "{}", refused.main());
    let csrf = user.get("/passwordnotification").await.csrf();
    user.post("/admin/remind", &[("csrf", &csrf), ("ous", ""), ("groups", ""), ("stale", "")]).await;
    assert!(portal.outbox().unwrap().messages().is_empty(), "a user sent nothing");

    let mut admin = Browser::new(&portal);
    let home = sign_in(&mut admin, "/admin", "helpdesk@example.org").await;
    assert!(home.by_id("report-link").is_some(), "{}", home.main());
    let report = admin.get(&format!("/admin/report?ous={STAFF}&groups=&stale=")).await;
    let counts = table(&report, "report-counts").unwrap();
    // staff: jane (registered), max (enabled, no contacts), bob (not enabled), root (privileged).
    assert!(counts.contains("<td>4</td><td>2</td><td>1</td><td>1</td>"), "{counts}");
    let users = table(&report, "report-users").unwrap();
    assert!(users.contains("max.mustermann@example.org") && users.contains("no contacts"), "{users}");
    assert!(!users.contains("carol.contractor"), "outside the OU");
    assert!(!report.body.contains("jane@private.example"), "masks only");

    // A bad filter is named, and nothing is sent.
    let bad = admin.get("/admin/report?ous=staff&groups=&stale=").await;
    assert!(bad.alert().unwrap().starts_with("ous:"), "{:?}", bad.alert());
    let bad = admin.get(&format!("/admin/report?ous={STAFF}&groups=&stale=soon")).await;
    assert!(bad.alert().unwrap().starts_with("stale_after_days:"), "{:?}", bad.alert());
    let csrf = report.csrf();
    let bad = admin.submit("/admin/remind", &[("csrf", &csrf), ("ous", "staff"), ("groups", ""), ("stale", "")]).await;
    assert!(bad.alert().unwrap().starts_with("ous:"), "{:?}", bad.alert());
    assert!(portal.outbox().unwrap().messages().is_empty());

    let fields = [("csrf", csrf.as_str()), ("ous", "ou=staff,dc=example,dc=org"), ("groups", ""), ("stale", "")];
    let done = admin.submit("/admin/remind", &fields).await;
    assert!(done.body.contains("Reminders sent: 1."), "{}", done.main());
    let sent = portal.outbox().unwrap().messages();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].to.as_str(), "max.mustermann@example.org", "the directory mailbox");
    let Message::RegistrationReminder { url, confirm: false } = &sent[0].message else { panic!("{sent:?}") };
    assert_eq!(url, "http://127.0.0.1:8080/passwordnotification", "this portal's page");
    let again = admin.submit("/admin/remind", &fields).await;
    assert!(again.body.contains("Reminders sent: 0. Already reminded: 1"), "{}", again.main());
    assert_eq!(portal.outbox().unwrap().messages().len(), 1, "the second run mailed nobody");
    let audit = admin.get("/admin").await;
    assert!(audit.body.contains("reminder_sent") && audit.body.contains("enrollment_report"), "{}", audit.main());
}

#[tokio::test]
async fn a_user_is_asked_to_confirm_old_contacts_and_confirms_them() {
    let config = crate::support::config("[policy]\nmin_response_ms = 0\nreconfirm_after_days = 30\n");
    drop(sspr_portal::Portal::build(&config).await.unwrap()); // seeds jane's contacts now
    // Forty days pass (the SQLite file is the portal's store): jane's contacts were added then.
    let store = sspr_backends::sqlite::SqliteStore::open(config.data_dir.join("sspr.sqlite")).unwrap();
    let jane = UserId::new("uid=jane.doe,ou=staff,dc=example,dc=org");
    let mut enrollment = store.get(&jane).await.unwrap().unwrap();
    let version = enrollment.version;
    for contact in
        [enrollment.email.as_mut().map(|c| &mut c.added_at), enrollment.phone.as_mut().map(|c| &mut c.added_at)]
            .into_iter()
            .flatten()
    {
        *contact -= time::Duration::days(40);
    }
    assert!(store.save(&jane, &enrollment, version).await.unwrap());
    drop(store);

    let portal = sspr_portal::Portal::build(&config).await.unwrap();
    let mut browser = Browser::new(&portal);
    let page = sign_in(&mut browser, "/passwordnotification", "jane.doe@example.org").await;
    assert!(page.by_id("reconfirm").is_some(), "{}", page.main());
    let done = browser.submit("/passwordnotification/reconfirm", &[("csrf", &page.csrf())]).await;
    assert!(done.by_id("reconfirm").is_none(), "{}", done.main());
    assert!(done.body.contains("value=\"jane@private.example\""), "the contacts stay as they were");
    // Max has no contacts: nothing to confirm, never asked.
    let mut max = Browser::new(&portal);
    let page = sign_in(&mut max, "/passwordnotification", "max.mustermann@example.org").await;
    assert!(page.by_id("reconfirm").is_none());
    // Without a session the form does nothing.
    let mut stranger = Browser::new(&portal);
    let csrf = stranger.get("/passwordnotification").await.csrf();
    let answer = stranger.post("/passwordnotification/reconfirm", &[("csrf", &csrf)]).await;
    assert!(answer.status.is_redirection(), "{:?}", answer.status);
}
