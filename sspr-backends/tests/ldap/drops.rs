//! The directory dropped where a binding's garbage collector drops it: on a thread without a
//! tokio runtime, with bound connections in its pool.

#[path = "../support/outside_runtime.rs"]
mod outside_runtime;

#[test]
fn an_ldap_directory_dropped_outside_a_runtime_does_not_panic() {
    use sspr_core::Directory;
    outside_runtime::drop_outside_runtime("LdapDirectory", || async {
        let directory = crate::common::openldap();
        // A lookup fills the pool with a bound connection (its driver task runs on the runtime).
        let login = sspr_core::NormalizedLogin::parse("no-such-user-drops").unwrap();
        assert!(directory.find_user(&login).await.unwrap().is_none());
        directory
    });
}
