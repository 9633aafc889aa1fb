//! What the limiter decided for one request, per tier, and the quotas it decided against.

use super::gcra::{Quota, Verdict};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    Client,
    Global,
}

impl Tier {
    pub const ALL: [Tier; 2] = [Self::Client, Self::Global];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Client => "client",
            Self::Global => "global",
        }
    }
}

/// Both tiers' verdicts; `None` for a tier that is off (or not reached: the global tier is not
/// consulted once the client tier refuses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Decision {
    pub client: Option<Verdict>,
    pub global: Option<Verdict>,
}

impl Decision {
    pub fn denied(&self) -> Option<Tier> {
        if self.client.is_some_and(|v| !v.allowed) {
            Some(Tier::Client)
        } else if self.global.is_some_and(|v| !v.allowed) {
            Some(Tier::Global)
        } else {
            None
        }
    }

    pub fn allowed(&self) -> bool {
        self.denied().is_none()
    }

    pub fn verdict(&self, tier: Tier) -> Option<Verdict> {
        match tier {
            Tier::Client => self.client,
            Tier::Global => self.global,
        }
    }
}

/// The configured quotas: `None` turns a tier off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub client: Option<Quota>,
    pub global: Option<Quota>,
}

impl Limits {
    pub fn quota(&self, tier: Tier) -> Option<Quota> {
        match tier {
            Tier::Client => self.client,
            Tier::Global => self.global,
        }
    }
}
