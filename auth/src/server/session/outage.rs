//! What a store that is down costs a request: nothing, once one call has failed. For a short
//! back-off (growing while it stays down, capped at a few seconds) calls skip the store at
//! once; when the back-off is over, the next call sends one probe in the background and skips
//! too, and the first answer brings every call back. Without this, each request of an outage
//! waits for the store's timeout (a hung Redis) or its reconnection attempts (a stopped one).
use std::{
    sync::{
        Mutex, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use super::store::StoreError;

/// The first back-off after a failure…
pub(super) const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// …doubled while the store stays down, up to this.
pub(super) const MAX_BACKOFF: Duration = Duration::from_secs(4);

/// Whether the store answers, as its last calls found; shared by every call of one server.
pub(super) struct Outage {
    /// The store, as logs name it (without credentials).
    described: String,
    /// Set while down: the one read an answered call pays.
    down: AtomicBool,
    state: Mutex<Option<Down>>,
}

struct Down {
    since: Instant,
    backoff: Duration,
    /// When the next probe may go.
    probe_at: Instant,
    probing: bool,
}

/// What a call may do now.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Admission {
    /// Ask the store.
    Ask,
    /// Skip it: it is down.
    Skip,
    /// Skip it, and send the one probe that asks whether it is back.
    SkipAndProbe,
}

impl Outage {
    pub(super) fn new(described: String) -> Self {
        Self {
            described,
            down: AtomicBool::new(false),
            state: Mutex::new(None),
        }
    }

    pub(super) fn admit(&self, now: Instant) -> Admission {
        if !self.down.load(Ordering::Acquire) {
            return Admission::Ask;
        }
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        match state.as_mut() {
            None => Admission::Ask,
            Some(down) if !down.probing && now >= down.probe_at => {
                down.probing = true;
                Admission::SkipAndProbe
            }
            Some(_) => Admission::Skip,
        }
    }

    /// A call (or a probe) was answered: the store is up.
    pub(super) fn answered(&self) {
        if !self.down.load(Ordering::Acquire) {
            return;
        }
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(down) = state.take() {
            self.down.store(false, Ordering::Release);
            tracing::warn!(
                "the session store ({}) answers again, after {:.1} s down",
                self.described,
                down.since.elapsed().as_secs_f64()
            );
        }
    }

    /// A call failed: the store is down from now on, if it was not already.
    pub(super) fn failed(&self, error: &StoreError, now: Instant) {
        if self.go_down(now) {
            tracing::warn!(
                "the session store ({}) is down: {error}; until it answers, visitors look signed \
                 out (their cookies are kept) and sign-ins are refused, without waiting for it",
                self.described
            );
        }
    }

    /// The store could not be reached at start-up: the server starts all the same.
    pub(super) fn unreachable_at_start(&self, error: &StoreError, now: Instant) {
        self.go_down(now);
        tracing::warn!(
            "the session store ({}) cannot be reached at start-up: {error}; starting anyway, \
             with visitors signed out until it answers",
            self.described
        );
    }

    /// A probe failed: the next one waits twice as long.
    pub(super) fn probe_failed(&self, now: Instant) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(down) = state.as_mut() {
            down.backoff = (down.backoff * 2).min(MAX_BACKOFF);
            down.probe_at = now + down.backoff;
            down.probing = false;
        }
    }

    /// Whether this failure is the one that took the store down.
    fn go_down(&self, now: Instant) -> bool {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.is_some() {
            return false;
        }
        *state = Some(Down {
            since: now,
            backoff: FIRST_BACKOFF,
            probe_at: now + FIRST_BACKOFF,
            probing: false,
        });
        self.down.store(true, Ordering::Release);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure() -> StoreError {
        StoreError::Failed("connection refused".to_owned())
    }

    #[test]
    fn after_a_failure_calls_skip_the_store_and_one_probe_goes_per_back_off() {
        let outage = Outage::new("test".to_owned());
        let start = Instant::now();
        assert_eq!(outage.admit(start), Admission::Ask);
        outage.failed(&failure(), start);
        assert_eq!(outage.admit(start), Admission::Skip);
        let due = start + FIRST_BACKOFF;
        assert_eq!(outage.admit(due), Admission::SkipAndProbe);
        assert_eq!(outage.admit(due), Admission::Skip, "one probe at a time");
        outage.probe_failed(due);
        assert_eq!(outage.admit(due + FIRST_BACKOFF), Admission::Skip);
        assert_eq!(
            outage.admit(due + FIRST_BACKOFF * 2),
            Admission::SkipAndProbe,
            "the back-off doubles"
        );
        outage.answered();
        assert_eq!(outage.admit(due + FIRST_BACKOFF * 2), Admission::Ask);
    }

    #[test]
    fn the_back_off_grows_to_its_cap() {
        let outage = Outage::new("test".to_owned());
        let mut now = Instant::now();
        outage.failed(&failure(), now);
        for _ in 0..20 {
            outage.probe_failed(now);
            now += MAX_BACKOFF;
            assert_eq!(outage.admit(now), Admission::SkipAndProbe);
        }
    }

    #[test]
    fn failures_while_down_do_not_start_the_back_off_again() {
        let outage = Outage::new("test".to_owned());
        let start = Instant::now();
        outage.failed(&failure(), start);
        outage.failed(&failure(), start + FIRST_BACKOFF);
        assert_eq!(outage.admit(start + FIRST_BACKOFF), Admission::SkipAndProbe);
    }
}
