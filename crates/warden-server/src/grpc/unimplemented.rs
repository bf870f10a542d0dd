//! Services not built yet: the generated default answers
//! UNIMPLEMENTED for every RPC, after the authorization layer has run. A
//! service leaves this file when its own module implements it.

use super::generated::{
    audit_service_server::AuditService, mfa_service_server::MfaService,
    o_auth_clients_service_server::OAuthClientsService,
};
use crate::state::AppState;

macro_rules! unimplemented_services {
    ($($adapter:ident: $service:ident),+ $(,)?) => {$(
        pub struct $adapter {
            _state: AppState,
        }

        impl $adapter {
            pub fn new(state: AppState) -> Self {
                Self { _state: state }
            }
        }

        impl $service for $adapter {}
    )+};
}

unimplemented_services! {
    MfaApi: MfaService,
    OAuthClientsApi: OAuthClientsService,
    AuditApi: AuditService,
}
