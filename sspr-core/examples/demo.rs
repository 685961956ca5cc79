//! A whole self-service reset on the embedded in-memory backends, step by step, as a portal
//! would drive it. Run with `cargo run -p sspr-core --example demo`.
//!
//! The PIN is read from the development outbox, where a real deployment would have mailed it.
#![allow(clippy::print_stdout)] // printing is what a demo is for

use sspr_core::memory::{MemoryAuditSink, MemoryDirectory, Outbox};
use sspr_core::{Actor, ContactChange, ContactUpdate, Error, NewPassword, Policy, RequestContext, SecretKey, Sspr};

const USERS: &str = r#"[
  {"login": "jane.doe@example.org", "display_name": "Jane Doe",
   "dn": "uid=jane.doe,ou=staff,dc=example,dc=org", "groups": ["cn=staff,ou=groups,dc=example,dc=org"]},
  {"login": "root@example.org", "display_name": "Root Admin",
   "dn": "uid=root,ou=staff,dc=example,dc=org", "groups": ["cn=Domain Admins,ou=groups,dc=example,dc=org"]},
  {"login": "carol@example.org", "display_name": "Carol Contractor",
   "dn": "uid=carol,ou=contractors,dc=example,dc=org"}
]"#;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let directory = MemoryDirectory::from_json(USERS)?;
    let outbox = Outbox::new();
    let audit = MemoryAuditSink::new();
    let policy = Policy {
        eligible_ous: vec!["ou=staff,dc=example,dc=org".into()],
        sms_enabled: true,
        decoy_country_codes: vec!["44".into()],
        ..Policy::default()
    };
    // A demo may make up its key; a real portal loads the same 32+ bytes on every start.
    let key = SecretKey::from_bytes(b"demo key - never use a constant key in production!")?;
    let sspr = Sspr::builder()
        .directory(directory.clone())
        .notifier(outbox.clone())
        .audit(audit.clone())
        .policy(policy)
        .secret_key(key)
        .build()?;

    println!("directory:");
    for user in directory.users() {
        let status = sspr.status(&user.login).await?;
        println!(
            "  {:<24} {:<18} eligible={:<5} privileged={}",
            user.login, user.display_name, status.eligible, status.privileged
        );
    }

    // 1. The admin enables Jane and registers her private address and mobile.
    let admin = Actor::Admin("helpdesk".into());
    let ctx = RequestContext::from_ip("192.0.2.10".parse().map_err(|_| Error::Config("ip".into()))?);
    sspr.set_enabled(&admin, "jane.doe@example.org", true, &ctx).await?;
    let update = ContactUpdate {
        email: ContactChange::Set("jane@private.example".into()),
        phone: ContactChange::Set("+44 7400 900123".into()),
    };
    sspr.update_contacts(&admin, "jane.doe@example.org", update, &ctx).await?;
    println!("\nadmin enabled jane.doe@example.org and registered her contacts");

    // 2. Jane forgot her password.
    let challenge = sspr.begin_reset("Jane.Doe@Example.org", &ctx).await?;
    println!("\nbegin_reset -> flow {}", challenge.flow_id);
    for m in &challenge.methods {
        println!("  method {:<5} {}", m.id, m.masked);
    }
    let sent = sspr.send_pin(&challenge.flow_id, "email", None, &ctx).await?;
    println!("send_pin(email) -> PIN valid until {}, {} attempts", sent.expires_at, sent.attempts_left);

    let pin = outbox.last_pin_to("jane@private.example").ok_or_else(|| Error::Config("no PIN delivered".into()))?;
    println!("  (the outbox shows the mail: {} digits)", pin.len());
    match sspr.verify_pin(&challenge.flow_id, sspr_core::Pin::new("00000000"), &ctx).await {
        Err(e) => println!("verify_pin(wrong) -> {e}"),
        Ok(_) => println!("verify_pin(wrong) -> accepted?!"),
    }
    let verified = sspr.verify_pin(&challenge.flow_id, sspr_core::Pin::new(&pin), &ctx).await?;
    println!("verify_pin(right) -> verified, modes {:?}", verified.modes);
    let outcome = sspr.complete_reset(&challenge.flow_id, NewPassword::Temporary, &ctx).await?;
    if let Some(temporary) = &outcome.temporary_password {
        // Shown once, to the user, by the portal; never sent anywhere.
        println!(
            "complete_reset -> temporary password {} (must change: {})",
            temporary.expose_secret(),
            outcome.must_change
        );
    }

    // 3. An unknown login gets an answer of the same shape; nothing is sent.
    let decoy = sspr.begin_reset("nobody@example.org", &ctx).await?;
    println!("\nbegin_reset(nobody@example.org) -> flow {}", decoy.flow_id);
    for m in &decoy.methods {
        println!("  method {:<5} {}", m.id, m.masked);
    }

    println!("\noutbox:");
    for n in outbox.messages() {
        println!("  to {:<24} {}", n.to.as_str(), n.render().subject);
    }
    println!("\naudit trail:");
    for e in audit.events() {
        println!("  {}", e.to_json());
    }
    Ok(())
}
