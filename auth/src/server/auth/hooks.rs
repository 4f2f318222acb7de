//! The app's say in sign-in: callbacks when someone signs in or out (for audit logs), and
//! functions that map, filter or refuse the claims before they are kept.
use std::{
    sync::{Arc, RwLock},
    time::SystemTime,
};

use crate::user::{Claims, User};

/// A sign-in or sign-out, as the app's hooks see it.
#[derive(Clone, Debug)]
pub struct AuthEvent {
    /// Who signed in or out.
    pub user: User,
    /// The `[auth.NAME]` provider they signed in with; `None` for the unnamed one.
    pub provider: Option<String>,
    /// When.
    pub at: SystemTime,
}

type EventHook = Arc<dyn Fn(&AuthEvent) + Send + Sync>;
type ClaimsHook = Arc<dyn Fn(&mut Claims, Option<&str>) -> Result<(), String> + Send + Sync>;

/// What the app registered, in order.
#[derive(Default)]
pub(crate) struct Hooks {
    signed_in: Vec<EventHook>,
    signed_out: Vec<EventHook>,
    claims: Vec<ClaimsHook>,
}

/// The hooks of one `Auth`: registered at start-up, read on every sign-in and sign-out.
#[derive(Default)]
pub(crate) struct HookSet(RwLock<Hooks>);

impl HookSet {
    pub(crate) fn add(&self, add: impl FnOnce(&mut Hooks)) {
        match self.0.write() {
            Ok(mut hooks) => add(&mut hooks),
            Err(poisoned) => add(&mut poisoned.into_inner()),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Hooks> {
        self.0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs the claims hooks in order; the first refusal ends the sign-in with its reason.
    pub(crate) fn map_claims(
        &self,
        claims: &mut Claims,
        provider: Option<&str>,
    ) -> Result<(), String> {
        self.read()
            .claims
            .iter()
            .try_for_each(|hook| hook(claims, provider))
    }

    pub(crate) fn signed_in(&self, user: &User) {
        Self::tell(&self.read().signed_in, user);
    }

    pub(crate) fn signed_out(&self, user: &User) {
        Self::tell(&self.read().signed_out, user);
    }

    fn tell(hooks: &[EventHook], user: &User) {
        if hooks.is_empty() {
            return;
        }
        let event = AuthEvent {
            user: user.clone(),
            provider: user.provider().map(str::to_owned),
            at: SystemTime::now(),
        };
        for hook in hooks {
            hook(&event);
        }
    }
}

impl Hooks {
    pub(crate) fn on_login(&mut self, hook: impl Fn(&AuthEvent) + Send + Sync + 'static) {
        self.signed_in.push(Arc::new(hook));
    }

    pub(crate) fn on_logout(&mut self, hook: impl Fn(&AuthEvent) + Send + Sync + 'static) {
        self.signed_out.push(Arc::new(hook));
    }

    pub(crate) fn map_claims(
        &mut self,
        hook: impl Fn(&mut Claims, Option<&str>) -> Result<(), String> + Send + Sync + 'static,
    ) {
        self.claims.push(Arc::new(hook));
    }
}
