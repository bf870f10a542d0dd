//! Authorization as a tower layer on the gRPC method path. Every request to a
//! warden RPC is authenticated and checked against the scope its proto option
//! declares before any handler runs; the resulting [`Principal`] rides along in
//! the request extensions. Deny by default: a path not in the table never
//! reaches a handler. Only health and reflection pass untouched.

use std::{
    collections::HashMap,
    sync::Arc,
    task::{Context, Poll},
};

use futures_util::future::BoxFuture;
use http::{HeaderMap, Request, Response};
use tonic::body::Body;
use tonic::transport::server::TcpConnectInfo;
use tower::{Layer, Service};
use warden_core::{
    DomainError,
    audit::{self, Event, Outcome},
    auth::Auth,
    context::{CallInfo, Context as CallContext},
    principal::Principal,
    scope::Scope,
};
use warden_proto::{Access, METHODS};

use crate::status::to_status;

/// Services any caller may reach: load balancers and tooling need them.
const EXEMPT_PREFIXES: &[&str] = &[
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1.ServerReflection/",
    "/grpc.reflection.v1alpha.ServerReflection/",
];

/// What a method requires, with scopes already parsed into the domain type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement {
    Public,
    Authenticated,
    Scope(Scope),
}

/// The method -> requirement table, built once from the proto options.
#[derive(Debug, Clone)]
pub struct Policy(Arc<HashMap<&'static str, Requirement>>);

impl Policy {
    /// Fails when an option names a scope the domain does not know, so a typo
    /// in a proto stops the server from starting instead of locking a method.
    pub fn from_proto() -> Result<Self, String> {
        let mut table = HashMap::with_capacity(METHODS.len());
        for method in METHODS {
            let requirement = match method.access {
                Access::Public => Requirement::Public,
                Access::Authenticated => Requirement::Authenticated,
                Access::Scope(name) => Requirement::Scope(
                    name.parse().map_err(|err| format!("{}: {err}", method.path))?,
                ),
            };
            table.insert(method.path, requirement);
        }
        Ok(Self(Arc::new(table)))
    }

    pub fn requirement(&self, path: &str) -> Option<Requirement> {
        self.0.get(path).copied()
    }
}

#[derive(Clone)]
pub struct AuthzLayer {
    policy: Policy,
    auth: Auth,
}

impl AuthzLayer {
    pub fn new(policy: Policy, auth: Auth) -> Self {
        Self { policy, auth }
    }
}

impl<S> Layer<S> for AuthzLayer {
    type Service = Authz<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Authz { inner, policy: self.policy.clone(), auth: self.auth.clone() }
    }
}

#[derive(Clone)]
pub struct Authz<S> {
    inner: S,
    policy: Policy,
    auth: Auth,
}

impl<S> Service<Request<Body>> for Authz<S>
where
    S: Service<Request<Body>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        // The clone is not ready; swap so the ready instance serves this call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let policy = self.policy.clone();
        let auth = self.auth.clone();
        Box::pin(async move {
            let path = request.uri().path();
            if EXEMPT_PREFIXES.iter().any(|prefix| path.starts_with(prefix)) {
                return inner.call(request).await;
            }
            match authorize(&policy, &auth, path, request.headers()).await {
                Ok(principal) => {
                    if let Some(principal) = principal {
                        request.extensions_mut().insert(principal);
                    }
                    inner.call(request).await
                }
                // The credential could not be checked (database down, a lost
                // race): not a denial, and never an authentication failure.
                Err(Denial {
                    error:
                        error @ (DomainError::Unavailable(_)
                        | DomainError::Aborted(_)
                        | DomainError::Internal(_)),
                    ..
                }) => Ok(to_status(error).into_http()),
                Err(Denial { error, caller }) => {
                    tracing::info!(path, reason = error.reason().as_str(), "call denied");
                    if policy.requirement(path).is_some() {
                        let peer = request
                            .extensions()
                            .get::<TcpConnectInfo>()
                            .and_then(TcpConnectInfo::remote_addr);
                        record_denial(&auth, path, request.headers(), peer, &error, caller).await;
                    }
                    Ok(to_status(error).into_http())
                }
            }
        })
    }
}

/// A refused call: why, and who the caller was when its credential was good
/// (only its scope was lacking), so the audit row names the actor.
struct Denial {
    error: DomainError,
    caller: Option<Principal>,
}

impl From<DomainError> for Denial {
    fn from(error: DomainError) -> Self {
        Self { error, caller: None }
    }
}

/// Denied calls are part of the audit trail. A failure to record one is
/// logged, never turned into a different answer for the caller.
async fn record_denial(
    auth: &Auth,
    path: &str,
    headers: &HeaderMap,
    peer: Option<std::net::SocketAddr>,
    err: &DomainError,
    caller: Option<Principal>,
) {
    let header = |name: &str| {
        headers.get(name).and_then(|v| v.to_str().ok()).map(|v| v.chars().take(256).collect())
    };
    let call = CallInfo {
        request_id: header("x-request-id"),
        peer_ip: peer.map(|addr| addr.ip().to_string()),
        user_agent: header("user-agent"),
    };
    let event =
        Event::new("authz.denied").outcome(Outcome::Denied, err.reason()).meta("method", path);
    let now = auth.now();
    let ctx = match caller {
        Some(principal) => CallContext::of(principal, call),
        None => CallContext::anonymous(call),
    };
    if let Err(err) = audit::record(auth.db(), &ctx, event, now).await {
        tracing::warn!(error = %err, "could not record a denied call");
    }
}

/// Decides one call. `Ok(None)` is a public method called without credentials.
async fn authorize(
    policy: &Policy,
    auth: &Auth,
    path: &str,
    headers: &HeaderMap,
) -> Result<Option<Principal>, Denial> {
    let Some(requirement) = policy.requirement(path) else {
        // Not a declared warden RPC: nothing behind it may be reached.
        return Err(DomainError::Unimplemented { method: path.to_owned() }.into());
    };
    let credential = bearer(headers)?;
    let principal = match (requirement, credential) {
        (Requirement::Public, None) => return Ok(None),
        (_, None) => return Err(DomainError::Unauthenticated.into()),
        (_, Some(credential)) => auth.authenticate(credential).await?,
    };
    if let Requirement::Scope(scope) = requirement
        && !principal.has(scope)
    {
        let error = DomainError::ScopeMissing { scope: scope.as_str().to_owned() };
        return Err(Denial { error, caller: Some(principal) });
    }
    Ok(Some(principal))
}

/// The credential from `authorization: Bearer <credential>`, if any.
fn bearer(headers: &HeaderMap) -> Result<Option<&str>, DomainError> {
    let Some(value) = headers.get(http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| DomainError::InvalidCredentials)?;
    let (scheme, credential) = value.split_once(' ').ok_or(DomainError::InvalidCredentials)?;
    if !scheme.eq_ignore_ascii_case("bearer") || credential.trim().is_empty() {
        return Err(DomainError::InvalidCredentials);
    }
    Ok(Some(credential.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_proto_scope_is_a_domain_scope() {
        let policy = Policy::from_proto().expect("all scopes known");
        assert_eq!(policy.0.len(), METHODS.len());
    }

    #[test]
    fn bearer_parsing() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer(&headers).ok(), Some(None));
        headers.insert("authorization", "Bearer abc".parse().expect("header"));
        assert_eq!(bearer(&headers).ok(), Some(Some("abc")));
        headers.insert("authorization", "bearer   abc ".parse().expect("header"));
        assert_eq!(bearer(&headers).ok(), Some(Some("abc")));
        for bad in ["Basic abc", "Bearer", "Bearer  ", "abc"] {
            headers.insert("authorization", bad.parse().expect("header"));
            assert!(bearer(&headers).is_err(), "{bad}");
        }
    }
}
