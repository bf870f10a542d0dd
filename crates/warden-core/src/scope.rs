//! The scopes a credential can hold, and the admin roles that grant them.

use std::{collections::BTreeSet, fmt, str::FromStr};

macro_rules! scopes {
    ($($variant:ident => $name:literal),+ $(,)?) => {
        /// A permission named in the proto `access` options, e.g. `users:read`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Scope { $($variant),+ }

        impl Scope {
            pub const ALL: &'static [Scope] = &[$(Scope::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $(Scope::$variant => $name),+ }
            }
        }

        impl FromStr for Scope {
            type Err = UnknownScope;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s { $($name => Ok(Scope::$variant),)+ _ => Err(UnknownScope(s.to_owned())) }
            }
        }
    };
}

scopes! {
    UsersRead => "users:read",
    UsersWrite => "users:write",
    UsersDelete => "users:delete",
    SessionsRead => "sessions:read",
    SessionsWrite => "sessions:write",
    TokensVerify => "tokens:verify",
    MfaRead => "mfa:read",
    MfaWrite => "mfa:write",
    ApiKeysRead => "api-keys:read",
    ApiKeysWrite => "api-keys:write",
    ApiKeysDelete => "api-keys:delete",
    ClientsRead => "clients:read",
    ClientsWrite => "clients:write",
    ClientsDelete => "clients:delete",
    AuditRead => "audit:read",
    StatsRead => "stats:read",
    AdminsRead => "admins:read",
    AdminsWrite => "admins:write",
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope {0:?}")]
pub struct UnknownScope(pub String);

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The set of scopes a principal holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeSet(BTreeSet<Scope>);

impl ScopeSet {
    pub fn all() -> Self {
        Self(Scope::ALL.iter().copied().collect())
    }

    pub fn contains(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }

    pub fn is_superset(&self, other: &ScopeSet) -> bool {
        self.0.is_superset(&other.0)
    }

    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }

    /// Parses names, collecting every unknown one rather than stopping at the first.
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, Vec<UnknownScope>> {
        let mut scopes = BTreeSet::new();
        let mut unknown = Vec::new();
        for name in names {
            match name.parse() {
                Ok(scope) => {
                    scopes.insert(scope);
                }
                Err(err) => unknown.push(err),
            }
        }
        if unknown.is_empty() { Ok(Self(scopes)) } else { Err(unknown) }
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

/// Dashboard roles an admin can have; each grants a fixed scope set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminRole {
    /// Every scope.
    DashboardAdmin,
    /// Every `:read` scope.
    DashboardViewer,
}

impl AdminRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DashboardAdmin => "dashboard_admin",
            Self::DashboardViewer => "dashboard_viewer",
        }
    }

    pub fn scopes(self) -> ScopeSet {
        match self {
            Self::DashboardAdmin => ScopeSet::all(),
            Self::DashboardViewer => {
                Scope::ALL.iter().copied().filter(|s| s.as_str().ends_with(":read")).collect()
            }
        }
    }
}

impl FromStr for AdminRole {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "dashboard_admin" => Ok(Self::DashboardAdmin),
            "dashboard_viewer" => Ok(Self::DashboardViewer),
            _ => Err(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for scope in Scope::ALL {
            assert_eq!(scope.as_str().parse::<Scope>(), Ok(*scope));
        }
    }

    #[test]
    fn parse_reports_every_unknown_name() {
        let err = ScopeSet::parse(["users:read", "nope", "users:admin"]).unwrap_err();
        assert_eq!(err, vec![UnknownScope("nope".into()), UnknownScope("users:admin".into())]);
    }

    #[test]
    fn viewer_holds_only_read_scopes() {
        let viewer = AdminRole::DashboardViewer.scopes();
        assert!(viewer.contains(Scope::UsersRead));
        assert!(viewer.contains(Scope::AuditRead));
        assert!(!viewer.contains(Scope::UsersWrite));
        assert!(!viewer.contains(Scope::TokensVerify));
        assert!(AdminRole::DashboardAdmin.scopes().is_superset(&viewer));
    }
}
