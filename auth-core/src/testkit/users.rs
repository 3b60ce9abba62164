//! Checks of [`UserStore`].

use super::unique;
use crate::secret::Handle;
use crate::store::{UserRecord, UserStore};

/// Checks that users are created once, found by their exact name, and
/// updated only if they exist.
///
/// A second `create_user` with a taken name answers `false` and keeps the
/// first; `find_user` neither folds case nor matches prefixes;
/// `set_password_hash` changes only the hash, and answers `false` for an
/// unknown name without creating it.
pub async fn users_create_find_update<S: UserStore + ?Sized>(store: &S) {
    let name = format!("Kit-{}", Handle::generate());
    let user = UserRecord {
        username: name.clone(),
        password_hash: fake_hash(),
        roles: vec!["admin".to_owned(), "user".to_owned()],
    };

    let before = find_user(store, &name).await;
    assert_eq!(
        before, None,
        "find_user must answer None for an unknown name"
    );

    let created = store.create_user(&user).await.expect("create_user");
    assert!(created, "create_user must answer true for a new name");
    let found = find_user(store, &name).await;
    assert_eq!(
        found.as_ref(),
        Some(&user),
        "find_user must answer the user as created"
    );

    let impostor = UserRecord {
        username: name.clone(),
        password_hash: fake_hash(),
        roles: Vec::new(),
    };
    let again = store.create_user(&impostor).await.expect("create_user");
    assert!(!again, "create_user must answer false for a taken name");
    let found = find_user(store, &name).await;
    assert_eq!(
        found.as_ref(),
        Some(&user),
        "create_user must keep the first user"
    );

    for near in [
        name.to_lowercase(),
        name.to_uppercase(),
        name[..name.len() - 1].to_owned(),
    ] {
        let found = find_user(store, &near).await;
        assert_eq!(found, None, "find_user must match the exact name only");
    }

    let hash = fake_hash();
    let set = store.set_password_hash(&name, &hash).await;
    assert!(
        set.expect("set_password_hash"),
        "set_password_hash must answer true for a user"
    );
    let updated = UserRecord {
        password_hash: hash.clone(),
        ..user
    };
    let found = find_user(store, &name).await;
    assert_eq!(
        found,
        Some(updated),
        "set_password_hash must change the hash only"
    );

    let unknown = unique("nobody");
    let set = store.set_password_hash(&unknown, &hash).await;
    assert!(
        !set.expect("set_password_hash"),
        "set_password_hash must answer false"
    );
    let found = find_user(store, &unknown).await;
    assert_eq!(found, None, "set_password_hash must not create a user");
}

/// A string shaped like a PHC hash; stores keep it as opaque text.
fn fake_hash() -> String {
    format!("$argon2id$v=19$m=19456,t=2,p=1${}", Handle::generate())
}

async fn find_user<S: UserStore + ?Sized>(store: &S, name: &str) -> Option<UserRecord> {
    store.find_user(name).await.expect("find_user")
}
