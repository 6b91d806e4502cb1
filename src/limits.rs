//! Every bound on what recmock keeps in memory, in one place: the caps' values ([`Limits`], set by the
//! command line's flags through `config::Config`) and, shared by the layers that keep things ([`Caps`]), the
//! one warning each cap logs when it is first reached (once per process, and again after a full reset).
//!
//! What a test double keeps because a client made it (accounts' tasks, classes, users) is the client's
//! and goes with a delete or a reset; what recmock keeps on its own account — the request journal, the
//! callback log and its attempts, fault rules, reported groups, sockets, files waiting for their MD5 — is
//! bounded here, so a server left running for days under any traffic stays within a stated size
//! (docs/decisions.md, "Bounded memory").

use std::sync::atomic::{AtomicBool, Ordering};

/// The caps, as the flags set them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// requests kept in the journal (`--journal-size`)
    pub journal_entries: usize,
    /// bytes the journal's entries may take (`--journal-bytes`): the older ones go first
    pub journal_bytes: usize,
    /// delivered callbacks kept in the log (`--callbacks-delivered`): the oldest go first
    pub delivered_callbacks: usize,
    /// callbacks kept that are not delivered — held, pending or failed (`--callbacks-undelivered`): the
    /// oldest are evicted first, and counted
    pub undelivered_callbacks: usize,
    /// attempts kept per callback (`--callback-attempts`): the latest ones, and a count of the rest
    pub callback_attempts: usize,
    /// fault rules at once (`--max-fault-rules`): another is refused
    pub fault_rules: usize,
    /// whiteboard groups one 000 app keeps from `report_group` (`--max-groups`): the longest-reported go
    pub groups: usize,
    /// event-gateway WebSockets at once (`--max-gateway-sockets`): another handshake gets HTTP 503
    pub gateway_sockets: usize,
    /// files waiting for their background MD5 (`--md5-backlog`): a file past it is hashed when its MD5 is
    /// asked for instead
    pub md5_backlog: usize,
    /// dashboard event streams open at once (`--max-ui-streams`): another gets HTTP 503
    pub ui_streams: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            journal_entries: 10_000,
            journal_bytes: 64 << 20,
            delivered_callbacks: 10_000,
            undelivered_callbacks: 10_000,
            callback_attempts: 20,
            fault_rules: 1_000,
            groups: 10_000,
            gateway_sockets: 10_000,
            md5_backlog: 1_000,
            ui_streams: 64,
        }
    }
}

/// One cap, for its warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cap {
    /// `--journal-size`
    JournalEntries,
    /// `--journal-bytes`
    JournalBytes,
    /// `--callbacks-delivered`
    DeliveredCallbacks,
    /// `--callbacks-undelivered`
    UndeliveredCallbacks,
    /// `--callback-attempts`
    CallbackAttempts,
    /// `--max-fault-rules`
    FaultRules,
    /// `--max-groups`
    Groups,
    /// `--max-gateway-sockets`
    GatewaySockets,
    /// `--md5-backlog`
    Md5Backlog,
    /// `--max-ui-streams`
    UiStreams,
}

impl Cap {
    /// Every cap.
    pub const ALL: [Cap; 10] = [
        Cap::JournalEntries,
        Cap::JournalBytes,
        Cap::DeliveredCallbacks,
        Cap::UndeliveredCallbacks,
        Cap::CallbackAttempts,
        Cap::FaultRules,
        Cap::Groups,
        Cap::GatewaySockets,
        Cap::Md5Backlog,
        Cap::UiStreams,
    ];

    /// The flag that sets it.
    pub fn flag(self) -> &'static str {
        match self {
            Cap::JournalEntries => "--journal-size",
            Cap::JournalBytes => "--journal-bytes",
            Cap::DeliveredCallbacks => "--callbacks-delivered",
            Cap::UndeliveredCallbacks => "--callbacks-undelivered",
            Cap::CallbackAttempts => "--callback-attempts",
            Cap::FaultRules => "--max-fault-rules",
            Cap::Groups => "--max-groups",
            Cap::GatewaySockets => "--max-gateway-sockets",
            Cap::Md5Backlog => "--md5-backlog",
            Cap::UiStreams => "--max-ui-streams",
        }
    }

    /// Its value in `limits`.
    pub fn value(self, limits: &Limits) -> usize {
        match self {
            Cap::JournalEntries => limits.journal_entries,
            Cap::JournalBytes => limits.journal_bytes,
            Cap::DeliveredCallbacks => limits.delivered_callbacks,
            Cap::UndeliveredCallbacks => limits.undelivered_callbacks,
            Cap::CallbackAttempts => limits.callback_attempts,
            Cap::FaultRules => limits.fault_rules,
            Cap::Groups => limits.groups,
            Cap::GatewaySockets => limits.gateway_sockets,
            Cap::Md5Backlog => limits.md5_backlog,
            Cap::UiStreams => limits.ui_streams,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The caps the layers read, and whether each has been reached since the process started (or the world
/// was last reset): its warning is logged once.
#[derive(Debug)]
pub struct Caps {
    /// the values
    pub limits: Limits,
    warned: [AtomicBool; Cap::ALL.len()],
}

impl Default for Caps {
    fn default() -> Self {
        Caps::new(Limits::default())
    }
}

impl Caps {
    /// Caps of these values, none reached yet.
    pub fn new(limits: Limits) -> Self {
        Caps { limits, warned: std::array::from_fn(|_| AtomicBool::new(false)) }
    }

    /// `cap` was reached: `what` happened (what was dropped or refused). Logged as a warning the first time
    /// only (true then); one atomic load afterwards.
    pub fn reached(&self, cap: Cap, what: impl FnOnce() -> String) -> bool {
        let flag = &self.warned[cap.index()];
        if flag.load(Ordering::Relaxed) || flag.swap(true, Ordering::Relaxed) {
            return false;
        }
        tracing::warn!(
            "cap reached: {} {} — {} (logged once; raise the flag to keep more)",
            cap.flag(),
            cap.value(&self.limits),
            what()
        );
        true
    }

    /// Whether `cap` has been reached since the start or the last [`Caps::rearm`].
    pub fn was_reached(&self, cap: Cap) -> bool {
        self.warned[cap.index()].load(Ordering::Relaxed)
    }

    /// After a full reset: each cap warns again the next time it is reached.
    pub fn rearm(&self) {
        for w in &self.warned {
            w.store(false, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cap_warns_once_until_rearmed() {
        let caps = Caps::new(Limits { fault_rules: 2, ..Limits::default() });
        let said = (0..3).filter(|_| caps.reached(Cap::FaultRules, || "a rule refused".into())).count();
        assert_eq!(said, 1);
        assert!(caps.was_reached(Cap::FaultRules) && !caps.was_reached(Cap::Groups));
        caps.rearm();
        assert!(!caps.was_reached(Cap::FaultRules));
        assert!(caps.reached(Cap::FaultRules, String::new));
        assert_eq!(
            Cap::ALL.iter().map(|c| c.index()).collect::<Vec<_>>(),
            (0..Cap::ALL.len()).collect::<Vec<_>>()
        );
        assert_eq!(Cap::FaultRules.value(&caps.limits), 2);
    }
}
