//! What every [`SessionStore`] must do, as one async test: run it against a store of your own
//! (feature `conformance`) the way this crate runs it against SQLite, Redis and memory.
//!
//! ```no_run
//! # #[cfg(feature = "conformance")]
//! # async fn check(my_store: impl leptos_login::store::SessionStore) {
//! leptos_login::store::conformance(&my_store).await; // panics, saying what failed
//! # }
//! ```
use std::time::Duration;

use super::{Group, Record, SessionStore};

/// A record of `owner` (and, if given, of `provider_session`) that ends at `until`. Its times
/// follow from `until` alone, so the same arguments make the same record in any second.
fn record(owner: &str, provider_session: Option<&str>, until: i64) -> Record {
    let began = until - 3600;
    Record {
        owner: owner.to_owned(),
        sealed_user: "sealed".to_owned(),
        provider_session: provider_session.map(str::to_owned),
        sealed_tokens: Some("sealed too".to_owned()),
        created_at: began,
        seen_at: began,
        expires_at: until,
        until,
        sealed_device: Some("sealed device".to_owned()),
    }
}

/// Runs every case against `store`, panicking at the first it fails. Keys and lock names
/// are this run's own, so a store shared with other data (or another run) is fine.
pub async fn conformance(store: &(impl SessionStore + ?Sized)) {
    let run = format!("{:016x}", rand::RngCore::next_u64(&mut rand::rngs::OsRng));
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let later = now + 3600;
    let (a, b, c, d) = (
        format!("a{run}"),
        format!("b{run}"),
        format!("c{run}"),
        format!("d{run}"),
    );
    let (alice, bob, idp_session) = (
        format!("alice{run}"),
        format!("bob{run}"),
        format!("sid{run}"),
    );
    let load = |key: String| async move { store.load(&key).await.expect("load answers") };
    // In the order of their keys, which the store may return in any order.
    let listed = |group: Group, id: String| async move {
        let mut listed = store
            .list_group(group, &id)
            .await
            .expect("list_group answers");
        listed.sort_by(|one, other| one.0.cmp(&other.0));
        listed
    };

    assert_eq!(
        load(a.clone()).await,
        None,
        "a key never saved holds nothing"
    );
    for (key, record) in [
        (&a, record(&alice, None, later)),
        (&b, record(&alice, Some(&idp_session), later)),
        (&c, record(&bob, None, later)),
    ] {
        store.save(key, &record).await.expect("save answers");
    }
    assert_eq!(
        load(a.clone()).await,
        Some(record(&alice, None, later)),
        "load gives what save kept"
    );

    // A group's list: its live sessions with their keys, never another account's, never one
    // that has ended (even while the store still holds it, until a sweep or a TTL).
    let ended = format!("e{run}");
    store
        .save(&ended, &record(&alice, None, now - 60))
        .await
        .expect("save answers");
    assert_eq!(
        listed(Group::Owner, alice.clone()).await,
        vec![
            (a.clone(), record(&alice, None, later)),
            (b.clone(), record(&alice, Some(&idp_session), later)),
        ],
        "list_group gives the account's live sessions as saved, with their keys"
    );
    assert_eq!(
        listed(Group::Owner, bob.clone()).await,
        vec![(c.clone(), record(&bob, None, later))],
        "another account lists only its own"
    );
    assert_eq!(
        listed(Group::ProviderSession, idp_session.clone()).await,
        vec![(b.clone(), record(&alice, Some(&idp_session), later))],
        "a provider session lists only its own"
    );
    assert_eq!(
        listed(Group::Owner, format!("carol{run}")).await,
        Vec::new(),
        "an account without sessions lists none"
    );
    store.remove(&ended).await.expect("remove answers");

    // Saving again replaces (a touch).
    let mut touched = record(&alice, None, later);
    touched.seen_at += 30;
    store.save(&a, &touched).await.expect("save answers");
    assert_eq!(load(a.clone()).await, Some(touched), "save replaces");

    store.remove(&a).await.expect("remove answers");
    assert_eq!(load(a.clone()).await, None, "remove ends the session");
    assert_eq!(
        listed(Group::Owner, alice.clone()).await,
        vec![(b.clone(), record(&alice, Some(&idp_session), later))],
        "an ended session leaves its account's list, and the others stay"
    );
    store.remove(&a).await.expect("removing twice is no error");
    // An update (a touch, a refresh) never brings an ended session back.
    let updated = store.update(&a, &record(&alice, None, later)).await;
    assert!(
        !updated.expect("update answers"),
        "update of an ended session says false"
    );
    assert_eq!(
        load(a.clone()).await,
        None,
        "update does not bring a session back"
    );
    let updated = store.update(&c, &record(&bob, None, later + 1)).await;
    assert!(
        updated.expect("update answers"),
        "update of a live session says true"
    );
    assert_eq!(load(c.clone()).await, Some(record(&bob, None, later + 1)));

    // A lock is its holder's: another can neither take it nor give it back; it ends by itself.
    let lock = format!("lock{run}");
    let ttl = Duration::from_secs(30);
    let try_lock = |holder: &'static str, ttl: Duration| {
        let lock = lock.clone();
        async move {
            store
                .try_lock(&lock, holder, ttl)
                .await
                .expect("try_lock answers")
        }
    };
    assert!(try_lock("one", ttl).await, "a free lock is taken");
    assert!(!try_lock("two", ttl).await, "a held lock is not");
    store.unlock(&lock, "two").await.expect("unlock answers");
    assert!(
        !try_lock("two", ttl).await,
        "only its holder gives a lock back"
    );
    store.unlock(&lock, "one").await.expect("unlock answers");
    assert!(
        try_lock("two", Duration::from_millis(300)).await,
        "a lock given back is free"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(try_lock("three", ttl).await, "a lock past its time is free");

    // Groups: an account's sessions, a provider session's.
    store
        .save(&d, &record(&alice, Some(&idp_session), later))
        .await
        .expect("save answers");
    let ended = store
        .remove_group(Group::ProviderSession, &idp_session)
        .await;
    assert_eq!(
        ended.expect("remove_group answers"),
        2,
        "both sessions of the provider session"
    );
    assert_eq!(load(b.clone()).await, None);
    assert_eq!(load(d.clone()).await, None);
    store
        .save(&a, &record(&alice, None, later))
        .await
        .expect("save answers");
    store
        .save(&b, &record(&alice, None, later))
        .await
        .expect("save answers");
    let ended = store.remove_group(Group::Owner, &alice).await;
    assert_eq!(
        ended.expect("remove_group answers"),
        2,
        "both sessions of the account"
    );
    assert_eq!(load(a.clone()).await, None);
    assert!(
        load(c.clone()).await.is_some(),
        "another account's session stays"
    );
    let ended = store.remove_group(Group::Owner, &alice).await;
    assert_eq!(
        ended.expect("remove_group answers"),
        0,
        "nothing left to end"
    );
    store.remove(&c).await.expect("remove answers");
}
