//! Two portal instances sharing one Redis state store (and one key and contact file): a
//! block earned on one holds on the other, and one visitor's session works on both (no sticky
//! sessions), also on PostgreSQL. Needs the Redis and PostgreSQL servers scripts/test.sh starts.

use sspr_portal::Portal;

use crate::support::{Answer, Browser, reset_to_pin};

fn redis_url() -> String {
    std::env::var("SSPR_TEST_REDIS_URL")
        .expect("SSPR_TEST_REDIS_URL is not set: run the tests via ./scripts/test.sh (it starts Redis)")
}

#[tokio::test]
async fn a_block_earned_on_one_instance_holds_on_the_other() {
    let prefix =
        format!("portal-test-{}-{}:", std::process::id(), crate::support::temp_dir().display().to_string().len());
    let toml = format!(
        "[policy]\nmin_response_ms = 0\nuser_failures_before_block = 2\n[state]\nkind = \"redis\"\nurl = \"{}\"\nkey_prefix = \"{prefix}\"\n",
        redis_url()
    );
    let first = crate::support::config(&toml);
    let mut second = sspr_portal::Config::from_toml(&toml).unwrap();
    second.data_dir = first.data_dir.clone();
    let a = sspr_portal::Portal::build(&first).await.unwrap();
    assert!(a.summary().contains("state: Redis"), "{}", a.summary());
    let b = sspr_portal::Portal::build(&second).await.unwrap();

    let mut user = Browser::new(&a);
    let page = reset_to_pin(&mut user, "jane.doe@example.org").await;
    let csrf = page.csrf();
    user.submit("/passwordreset/verify", &[("csrf", &csrf), ("pin", "00000000")]).await;
    let blocked = user.submit("/passwordreset/verify", &[("csrf", &csrf), ("pin", "00000000")]).await;
    assert!(blocked.alert().unwrap().contains("blocked until"), "{:?}", blocked.alert());

    // The other instance sees the block, in its admin view and in its reset pages.
    assert!(b.sspr().status("jane.doe@example.org").await.unwrap().blocked_until.is_some());
    let mut elsewhere = Browser::with_ip(&b, "192.0.2.200");
    let csrf = elsewhere.get("/passwordreset").await.csrf();
    let page = elsewhere.submit("/passwordreset/begin", &[("csrf", &csrf), ("login", "jane.doe@example.org")]).await;
    assert!(page.alert().unwrap().contains("blocked until"), "{:?}", page.alert());
}

/// Two instances on one Redis (a key prefix of their own), one data directory (key file,
/// contacts): what two processes behind a balancer share. Also their key prefix.
async fn two_instances(extra: &str) -> (Portal, Portal, String) {
    let dir = crate::support::temp_dir();
    let prefix = format!("portal-rr-{}-{}:", std::process::id(), dir.display());
    let state = format!("[state]\nkind = \"redis\"\nurl = \"{}\"\nkey_prefix = \"{prefix}\"\n", redis_url());
    let (a, b) = two_instances_on(extra, &state, dir).await;
    (a, b, prefix)
}

/// Two instances sharing the `[state]` store `state` and the data directory `dir`.
async fn two_instances_on(extra: &str, state: &str, dir: std::path::PathBuf) -> (Portal, Portal) {
    let toml = format!("{extra}\n[policy]\nmin_response_ms = 0\n{state}");
    let mut first = sspr_portal::Config::from_toml(&toml).unwrap();
    first.data_dir = dir.clone();
    let mut second = sspr_portal::Config::from_toml(&toml).unwrap();
    second.data_dir = dir;
    let a = Portal::build(&first).await.unwrap();
    assert!(a.summary().contains("sessions: in the state store"), "{}", a.summary());
    let b = Portal::build(&second).await.unwrap();
    (a, b)
}

/// The last PIN sent to `address`, by whichever instance sent it.
fn pin_to(portals: &[&Portal], address: &str) -> String {
    portals.iter().find_map(|p| p.outbox().unwrap().last_pin_to(address)).expect("a PIN was sent")
}

/// From the PIN form to the temporary password; the answer that shows it.
async fn verify_and_complete(browser: &mut Browser, pin_page: &Answer, pin: &str) -> Answer {
    let verified = browser.submit("/passwordreset/verify", &[("csrf", &pin_page.csrf()), ("pin", pin)]).await;
    assert!(verified.body.contains("value=\"temporary\""), "the PIN was not accepted: {:?}", verified.alert());
    browser.submit("/passwordreset/complete", &[("csrf", &verified.csrf()), ("mode", "temporary")]).await
}

#[tokio::test]
async fn one_visitor_round_robin_over_two_instances_completes_a_reset() {
    let (a, b, _) = two_instances("").await;
    let mut user = Browser::round_robin(&[&a, &b], "192.0.2.10");
    // Every request lands on the other instance than the one before.
    let pin_page = reset_to_pin(&mut user, "jane.doe@example.org").await;
    assert!(pin_page.body.contains("id=\"pin-status\""), "no PIN form: {:?}", pin_page.alert());
    let pin = pin_to(&[&a, &b], "jane@private.example");
    let done = verify_and_complete(&mut user, &pin_page, &pin).await;
    let temporary = done.by_id("temporary-password").expect("the temporary password is shown");
    assert_eq!(temporary.len(), 16, "{temporary}");
}

#[tokio::test]
async fn one_visitor_round_robin_over_two_instances_on_postgresql_completes_a_reset() {
    // The other shared store: the state keys (sessions included) are keyed by this test's own
    // server key, so runs sharing the database do not meet.
    let url = std::env::var("SSPR_TEST_POSTGRES_URL")
        .expect("SSPR_TEST_POSTGRES_URL is not set: run the tests via ./scripts/test.sh (it starts PostgreSQL)");
    let state = format!("[state]\nkind = \"postgres\"\nurl = \"{url}\"\n");
    let (a, b) = two_instances_on("", &state, crate::support::temp_dir()).await;
    let mut user = Browser::round_robin(&[&a, &b], "192.0.2.16");
    let pin_page = reset_to_pin(&mut user, "jane.doe@example.org").await;
    assert!(pin_page.body.contains("id=\"pin-status\""), "no PIN form: {:?}", pin_page.alert());
    let pin = pin_to(&[&a, &b], "jane@private.example");
    let done = verify_and_complete(&mut user, &pin_page, &pin).await;
    assert!(done.by_id("temporary-password").is_some(), "{:?}", done.alert());
}

/// Whether the visitor's session holds a reset at the PIN step (else they see the start).
async fn at_pin_step(browser: &mut Browser) -> bool {
    browser.get("/passwordreset").await.body.contains("id=\"pin-status\"")
}

#[tokio::test]
async fn a_verified_pin_on_one_instance_ends_the_old_session_id_on_both() {
    let (a, b, _) = two_instances("").await;
    let mut user = Browser::round_robin(&[&a, &b], "192.0.2.11");
    let pin_page = reset_to_pin(&mut user, "jane.doe@example.org").await;
    let before = user.cookie().expect("a session cookie");
    // Someone who learnt the id before the PIN was verified (a planted or sniffed cookie).
    let mut other = Browser::round_robin(&[&b, &a], "192.0.2.11");
    other.set_cookie(Some(before.clone()));
    assert!(at_pin_step(&mut other).await, "the copied id works before the rotation");

    let pin = pin_to(&[&a, &b], "jane@private.example");
    let verified = user.submit("/passwordreset/verify", &[("csrf", &pin_page.csrf()), ("pin", &pin)]).await;
    assert!(verified.body.contains("value=\"temporary\""), "{:?}", verified.alert());
    assert_ne!(user.cookie().unwrap(), before, "a verified PIN moves the session to a new id");
    for _ in 0..2 {
        let page = other.get("/passwordreset").await;
        assert!(!page.body.contains("value=\"temporary\"") && !page.body.contains("id=\"pin-status\""));
        assert!(page.body.contains("name=\"login\""), "the old id is no session on either instance");
    }
    let done = user.submit("/passwordreset/complete", &[("csrf", &verified.csrf()), ("mode", "temporary")]).await;
    assert!(done.by_id("temporary-password").is_some(), "{:?}", done.alert());
}

/// Whether the page asks to choose a method (a session holds a begun reset).
fn at_method_step(page: &Answer) -> bool {
    page.body.contains("name=\"method\"")
}

#[tokio::test]
async fn the_per_address_session_cap_holds_across_instances() {
    let (a, b, _) = two_instances("max_sessions_per_ip = 3").await;
    let mut bystander = Browser::round_robin(&[&b, &a], "198.51.100.20");
    reset_to_pin(&mut bystander, "bob@example.org").await;
    // Seven visitors from one address, each session made by the instance its turn lands on.
    let mut flood = Vec::new();
    for i in 0..7 {
        let mut visitor = if i % 2 == 0 {
            Browser::round_robin(&[&a, &b], "203.0.113.20")
        } else {
            Browser::round_robin(&[&b, &a], "203.0.113.20")
        };
        let csrf = visitor.get("/passwordreset").await.csrf();
        let page = visitor.submit("/passwordreset/begin", &[("csrf", &csrf), ("login", "jane.doe@example.org")]).await;
        assert!(at_method_step(&page), "{:?}", page.alert());
        flood.push(visitor);
    }
    for (i, visitor) in flood.iter_mut().enumerate() {
        // Two requests: one on each instance.
        for _ in 0..2 {
            let page = visitor.get("/passwordreset").await;
            assert_eq!(at_method_step(&page), i >= 4, "visitor {i} of 7, a cap of 3 per address");
        }
    }
    assert!(at_pin_step(&mut bystander).await, "another address keeps its session");
}

/// Every session record of `prefix` in Redis: (key, sealed value).
async fn session_records(prefix: &str) -> Vec<(String, Vec<u8>)> {
    let client = redis::Client::open(redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> =
        redis::cmd("KEYS").arg(format!("{prefix}*portal:session:*")).query_async(&mut conn).await.unwrap();
    let mut out = Vec::new();
    for key in keys {
        let value: Vec<u8> = redis::cmd("HGET").arg(&key).arg("v").query_async(&mut conn).await.unwrap();
        out.push((key, value));
    }
    out
}

#[tokio::test]
async fn a_stolen_session_record_without_the_cookie_is_useless() {
    let (a, b, prefix) = two_instances("").await;
    let mut user = Browser::round_robin(&[&a, &b], "192.0.2.12");
    let pin_page = reset_to_pin(&mut user, "jane.doe@example.org").await;
    let cookie = user.cookie().unwrap();
    let id = cookie.split_once('=').unwrap().1.to_owned();
    let records = session_records(&prefix).await;
    assert_eq!(records.len(), 1, "one visitor, one session record");
    let (key, value) = &records[0];
    // What a reader of the store (a replica, a backup, MONITOR) sees names nothing.
    assert!(!key.contains(&id), "the store key is not the cookie");
    let text = String::from_utf8_lossy(value);
    for secret in [id.as_str(), pin_page.csrf().as_str(), "jane", "j***"] {
        assert!(!text.contains(secret), "the stored record shows {secret}");
    }
    // The key, presented as a cookie on either instance, is no session.
    let mut thief = Browser::round_robin(&[&a, &b], "192.0.2.66");
    thief.set_cookie(Some(format!("sspr_session={}", key.trim_end_matches('}').rsplit(':').next().unwrap())));
    for _ in 0..2 {
        assert!(!at_pin_step(&mut thief).await, "the store key worked as a cookie");
    }
    assert!(at_pin_step(&mut user).await, "the owner's cookie still works");
}

#[tokio::test]
async fn a_tampered_session_record_is_refused_by_both_instances() {
    let (a, b, prefix) = two_instances("").await;
    let mut victim = Browser::round_robin(&[&a, &b], "192.0.2.13");
    reset_to_pin(&mut victim, "jane.doe@example.org").await;
    let mut attacker = Browser::round_robin(&[&b, &a], "192.0.2.14");
    let attacker_page = attacker.get("/passwordreset").await;
    attacker.submit("/passwordreset/begin", &[("csrf", &attacker_page.csrf()), ("login", "bob@example.org")]).await;
    assert!(attacker.cookie().is_some());

    let client = redis::Client::open(redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let records = session_records(&prefix).await;
    assert_eq!(records.len(), 2);
    // A store writer swaps the two records (the victim's at the PIN step, the attacker's at
    // the method step): neither opens under the other's key.
    let (first, second) = (&records[0], &records[1]);
    let _: () = redis::cmd("HSET").arg(&first.0).arg("v").arg(&second.1).query_async(&mut conn).await.unwrap();
    let _: () = redis::cmd("HSET").arg(&second.0).arg("v").arg(&first.1).query_async(&mut conn).await.unwrap();
    for _ in 0..2 {
        assert!(!at_pin_step(&mut attacker).await, "a moved record was accepted");
        assert!(!at_pin_step(&mut victim).await, "a moved record was accepted");
    }

    // One bit changed in a fresh session's record.
    let mut user = Browser::round_robin(&[&a, &b], "192.0.2.15");
    reset_to_pin(&mut user, "jane.doe@example.org").await;
    let records = session_records(&prefix).await;
    let (key, value) = records.iter().find(|(k, _)| *k != first.0 && *k != second.0).unwrap();
    let mut bad = value.clone();
    let middle = bad.len() / 2;
    bad[middle] ^= 1;
    let _: () = redis::cmd("HSET").arg(key).arg("v").arg(&bad).query_async(&mut conn).await.unwrap();
    for _ in 0..2 {
        let page = user.get("/passwordreset").await;
        assert_eq!(page.status, axum::http::StatusCode::OK);
        assert!(page.body.contains("name=\"login\""), "a changed record was accepted");
    }
}

#[tokio::test]
async fn an_instance_with_another_server_key_on_the_same_store_refuses_to_start() {
    // Attack surface: two hosts set up alike, each data directory creating its own key on
    // first start. On one Redis they counted a user's failures under different keys (two
    // allowances, a block on one instance only) and drew different decoy masks for one
    // unknown login (a visitor balanced over both saw it change: not a real user). Before,
    // both started without a word.
    let prefix = format!("portal-keys-{}-{}:", std::process::id(), crate::support::temp_dir().display());
    let toml = format!(
        "[policy]\nmin_response_ms = 0\n[state]\nkind = \"redis\"\nurl = \"{}\"\nkey_prefix = \"{prefix}\"\n",
        redis_url()
    );
    let first = crate::support::config(&toml);
    let _a = Portal::build(&first).await.unwrap();
    let second = crate::support::config(&toml);
    assert_ne!(first.data_dir, second.data_dir, "each instance has a data directory, and a key, of its own");
    let refused = Portal::build(&second).await.expect_err("the second key is refused").to_string();
    assert!(refused.contains("server key") && refused.contains("secret.key"), "{refused}");
    let second_key = std::fs::read_to_string(second.secret_key_path()).unwrap();
    assert!(!refused.contains(second_key.trim()), "the refusal quotes no key");

    // The first instance's key file copied over: the second starts, and a restart of either too.
    std::fs::copy(first.secret_key_path(), second.secret_key_path()).unwrap();
    let _b = Portal::build(&second).await.unwrap();
    let _a_again = Portal::build(&first).await.unwrap();

    // A key changed on purpose: starts once the old fingerprint is deleted, as the message says.
    let third = crate::support::config(&toml);
    assert!(Portal::build(&third).await.is_err());
    let client = redis::Client::open(redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let found: Vec<String> =
        redis::cmd("KEYS").arg(format!("{prefix}*portal:key-check*")).query_async(&mut conn).await.unwrap();
    assert_eq!(found.len(), 1, "the fingerprint is where the message says: {found:?}");
    let _: i64 = redis::cmd("DEL").arg(&found[0]).query_async(&mut conn).await.unwrap();
    Portal::build(&third).await.unwrap();
}

/// An office behind one NAT address, two instances on one Redis: a colleague is mid-reset
/// (the PIN sent) and another is signed in when someone at the same address posts cookie-less
/// forms over both instances, each making a new session. The address's cap still bounds the
/// store, but the flood pushes out its own fresh sessions, not the sessions that got
/// somewhere. Failed before the second ring: the fourth post ended the user's reset.
#[tokio::test]
async fn a_flood_from_a_users_own_address_does_not_end_their_reset_under_way_across_instances() {
    let (a, b, _) = two_instances("max_sessions_per_ip = 3").await;
    let office = "198.51.100.30";
    let mut user = Browser::round_robin(&[&a, &b], office);
    let pin_form = reset_to_pin(&mut user, "jane.doe@example.org").await;
    assert!(pin_form.body.contains("id=\"pin-status\""), "{:?}", pin_form.alert());
    let mut colleague = Browser::round_robin(&[&b, &a], office);
    let csrf = colleague.get("/passwordnotification").await.csrf();
    let fields = [
        ("csrf", csrf.as_str()),
        ("login", "max.mustermann@example.org"),
        ("password", sspr_portal::demo::DEMO_PASSWORD),
    ];
    let signed = colleague.submit("/passwordnotification/signin", &fields).await;
    assert!(signed.body.contains("Signed in as"), "{}", signed.main());

    let mut attacker = Browser::round_robin(&[&a, &b], office);
    let csrf = attacker.get("/passwordreset").await.csrf();
    // 25: within the address's begins per hour (30), so each post makes a session.
    for i in 0..25 {
        attacker.set_cookie(None); // keep the CSRF cookie, make a new session every time
        let login = format!("flood{i}@example.org");
        attacker.post("/passwordreset/begin", &[("csrf", &csrf), ("login", &login)]).await;
    }
    assert!(at_pin_step(&mut user).await, "the reset under way survived the flood");
    let still = user.get("/passwordreset").await;
    let pin = pin_to(&[&a, &b], "jane@private.example");
    let done = verify_and_complete(&mut user, &still, &pin).await;
    assert!(done.by_id("temporary-password").is_some(), "{:?}", done.alert());
    let again = colleague.get("/passwordnotification").await;
    assert!(again.body.contains("Signed in as"), "the signed-in colleague too: {}", again.main());
}

/// A double click on "Verify" with the right PIN where the two requests land on different
/// instances: the first verifies and moves the session, its answer is lost with the
/// cancelled navigation, the second (old cookie, same token and PIN) is served by the other
/// instance and must land on the completion form. The PIN still verifies once. Failed before
/// the forward lived in the store: the second click landed on the start page.
#[tokio::test]
async fn a_double_click_on_verify_served_by_the_other_instance_lands_on_the_completion_form() {
    let (a, b, _) = two_instances("").await;
    let mut user = Browser::round_robin(&[&a, &b], "192.0.2.31");
    let page = reset_to_pin(&mut user, "jane.doe@example.org").await;
    let pin = pin_to(&[&a, &b], "jane@private.example");
    let csrf = page.csrf();
    let fields = [("csrf", csrf.as_str()), ("pin", pin.as_str())];
    // The first click on instance a, its answer dropped; the second on instance b.
    let mut first = Browser::with_ip(&a, "192.0.2.31");
    first.cookies = user.cookies.clone();
    first.post("/passwordreset/verify", &fields).await;
    let mut second = Browser::with_ip(&b, "192.0.2.31");
    second.cookies = user.cookies.clone();
    let answer = second.post("/passwordreset/verify", &fields).await;
    assert_eq!(answer.status, axum::http::StatusCode::SEE_OTHER, "{:?}", answer.headers);
    let landed = second.get("/passwordreset").await;
    assert!(
        landed.body.contains("action=\"/passwordreset/complete\""),
        "the second click lands on the completion form: {}",
        landed.main()
    );
    // The old id with a wrong PIN (a planted cookie) gets nothing.
    let mut planted = Browser::with_ip(&a, "192.0.2.31");
    planted.cookies = user.cookies.clone();
    planted.post("/passwordreset/verify", &[("csrf", csrf.as_str()), ("pin", "000000")]).await;
    assert!(!planted.get("/passwordreset").await.body.contains("action=\"/passwordreset/complete\""));
    let done = second.submit("/passwordreset/complete", &[("csrf", &landed.csrf()), ("mode", "temporary")]).await;
    assert!(done.by_id("temporary-password").is_some(), "{}", done.main());
}

#[tokio::test]
async fn a_rolling_key_rotation_over_two_instances_keeps_a_block() {
    // Before, a rotation over two instances could not roll: the instance on the new key was
    // refused while the other ran the old one, and the new key alone lifted every block (a
    // blocked attacker waited for the rotation). Now the new instance lists the old key file in
    // previous_key_files: it starts beside the old one and honours the block earned there.
    let prefix = format!("portal-rotate-{}-{}:", std::process::id(), crate::support::temp_dir().display());
    let toml = format!(
        "[policy]\nmin_response_ms = 0\nuser_failures_before_block = 2\n[state]\nkind = \"redis\"\nurl = \"{}\"\nkey_prefix = \"{prefix}\"\n",
        redis_url()
    );
    let old = crate::support::config(&toml);
    let a = Portal::build(&old).await.unwrap();
    let mut user = Browser::new(&a);
    let page = reset_to_pin(&mut user, "jane.doe@example.org").await;
    let csrf = page.csrf();
    user.submit("/passwordreset/verify", &[("csrf", &csrf), ("pin", "00000000")]).await;
    let blocked = user.submit("/passwordreset/verify", &[("csrf", &csrf), ("pin", "00000000")]).await;
    assert!(blocked.alert().unwrap().contains("blocked until"), "{:?}", blocked.alert());

    // The new instance: the same data directory (contacts), a key file of its own (created at
    // its first start), the old instance's key file as its previous key.
    let mut new = crate::support::config(&toml);
    new.secret_key_file = Some(new.data_dir.join("new.key"));
    new.data_dir = old.data_dir.clone();
    new.previous_key_files = vec![old.secret_key_path()];
    let b = Portal::build(&new).await.expect("a ring sharing the old key starts beside it");
    let mut elsewhere = Browser::with_ip(&b, "192.0.2.201");
    let csrf = elsewhere.get("/passwordreset").await.csrf();
    let page = elsewhere.submit("/passwordreset/begin", &[("csrf", &csrf), ("login", "jane.doe@example.org")]).await;
    assert!(page.alert().unwrap_or_default().contains("blocked until"), "the block was lifted: {:?}", page.alert());
    // The old instance restarts beside it (rolling), and an unrelated key is still refused.
    let _a_again = Portal::build(&old).await.unwrap();
    assert!(Portal::build(&crate::support::config(&toml)).await.is_err());
}
