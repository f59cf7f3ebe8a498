//! Identifiers: uuid v7 newtypes so a session id can never be passed where an event id is
//! expected. v7 ids sort by creation time, which keeps the database's primary-key indexes
//! append-mostly and makes "newest first" cheap.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh, time-ordered (v7) id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            pub fn as_uuid(&self) -> &Uuid {
                &self.0
            }

            /// The first 8 hex digits: what the user sees and types.
            pub fn short(&self) -> String {
                let mut text = self.0.simple().to_string();
                text.truncate(8);
                text
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

uuid_id!(
    /// Identifies a conversation.
    SessionId
);
uuid_id!(
    /// Identifies one event of a conversation; stable from the moment the event is created.
    EventId
);
uuid_id!(
    /// Identifies one launch of the program, so a resumed session shows where each run began.
    InvocationId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_id_is_eight_hex_digits_and_ids_sort_by_creation() {
        let first = SessionId::new();
        let second = SessionId::new();
        assert_eq!(first.short().len(), 8);
        assert!(
            first
                .to_string()
                .replace('-', "")
                .starts_with(&first.short())
        );
        assert!(first < second);
        assert_eq!(first.to_string().parse::<SessionId>().unwrap(), first);
    }
}
