//! Two portal instances sharing one Redis state store (and one key and contact file): a
//! block earned on one holds on the other. Needs the Redis server scripts/test.sh starts.

use crate::support::{Browser, reset_to_pin};

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
