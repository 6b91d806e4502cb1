//! Which vendor something belongs to: a small copyable name every layer can carry (scheduler jobs, fault
//! rules, journal rows, callbacks) without knowing anything about the vendor modules above.
//!
//! Each vendor folder declares its own kind and registers it (`inventory::submit!`), so the kinds known
//! here are exactly the vendors linked into the program, and adding a vendor never edits this file.
//!
//! ```
//! let kind: recmock::VendorKind = "cloud_record".parse().unwrap();
//! assert_eq!(kind.as_str(), "cloud_record");
//! assert_eq!(kind.seed(), 1);
//! assert!("nope".parse::<recmock::VendorKind>().is_err());
//! ```

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;
use std::sync::OnceLock;

/// One emulated vendor: its seed number (the order of the vendor documents) and its name in fixtures,
/// events, journal filters and tenant ids.
#[derive(Clone, Copy)]
pub struct VendorKind {
    seed: u8,
    name: &'static str,
}

inventory::collect!(VendorKind);

impl VendorKind {
    /// The kind of seed document `seed` named `name`. A vendor folder declares its one kind as a constant
    /// and registers it with `inventory::submit!`.
    pub const fn new(seed: u8, name: &'static str) -> VendorKind {
        VendorKind { seed, name }
    }

    /// The name used in fixtures, events, journal filters and tenant ids.
    pub fn as_str(self) -> &'static str {
        self.name
    }

    /// The seed document's number (000 → 0).
    pub fn seed(self) -> u8 {
        self.seed
    }

    /// Every registered vendor, in seed order.
    pub fn all() -> &'static [VendorKind] {
        static ALL: OnceLock<Vec<VendorKind>> = OnceLock::new();
        ALL.get_or_init(|| {
            let mut all: Vec<VendorKind> = inventory::iter::<VendorKind>.into_iter().copied().collect();
            all.sort();
            all.dedup();
            all
        })
    }
}

impl PartialEq for VendorKind {
    fn eq(&self, other: &Self) -> bool {
        self.seed == other.seed
    }
}

impl Eq for VendorKind {}

impl Hash for VendorKind {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.seed.hash(state);
    }
}

impl PartialOrd for VendorKind {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for VendorKind {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.seed.cmp(&other.seed)
    }
}

impl fmt::Debug for VendorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl fmt::Display for VendorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl FromStr for VendorKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        VendorKind::all().iter().copied().find(|v| v.name == s).ok_or_else(|| {
            let known: Vec<&str> = VendorKind::all().iter().map(|v| v.name).collect();
            format!("unknown vendor `{s}` (known: {})", known.join(", "))
        })
    }
}

impl Serialize for VendorKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name)
    }
}

impl<'de> Deserialize<'de> for VendorKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}
