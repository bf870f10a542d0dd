//! AdminAuthService requests -> the typed input of `warden_core::admin_auth`,
//! every field violation of a request collected into one answer.

use warden_core::{
    DomainResult, FieldViolation,
    admin_auth::{
        AdminFilter, AdminName, AdminOrder, AdminQuery, AdminUpdate, FirstAdmin, NewAdmin,
        PasswordChange, ResetConfirmation, parse_role,
    },
    auth::{password::PasswordPolicy, sign_in::Credentials},
    pagination::{PageKey, PageRequest},
    scope::AdminRole,
    secret::SecretString,
    values::{AdminId, Email, RequestId, all, required},
};
use warden_proto::v1 as pb;

use crate::grpc::convert::{Mask, MaskRules, descending, known, paged, paging, text_filter};

/// UpdateAdmin's mask: `password` is the request's own field, not the Admin's.
fn admin_mask() -> MaskRules {
    MaskRules { extra: &["password"], ..MaskRules::of("warden.v1.Admin") }
}

fn secret(value: String) -> SecretString {
    SecretString::new(value)
}

/// `password_confirm`, when `optional`, may be left empty; otherwise it
/// must equal the password.
fn confirmed(password: &str, confirm: &str, optional: bool) -> Result<(), FieldViolation> {
    if (optional && confirm.is_empty()) || confirm == password {
        return Ok(());
    }
    Err(FieldViolation::new("password_confirm", "must equal password"))
}

pub fn setup(req: pb::SetupRequest, policy: &PasswordPolicy<'_>) -> DomainResult<FirstAdmin> {
    Ok(FirstAdmin::parse(policy, &req.email, secret(req.password), &req.name)?)
}

pub fn login(req: pb::LoginRequest) -> DomainResult<Credentials> {
    Ok(Credentials::parse("email", &req.email, req.password)?)
}

pub fn change_password(
    req: pb::ChangePasswordRequest,
    policy: &PasswordPolicy<'_>,
) -> DomainResult<PasswordChange> {
    let (_, new) = all((
        required("current_password", &req.current_password),
        policy.parse("new_password", secret(req.new_password), &[]),
    ))?;
    Ok(PasswordChange { current: secret(req.current_password), new })
}

pub fn request_password_reset(req: &pb::RequestPasswordResetRequest) -> DomainResult<Email> {
    Ok(Email::parse("email", &req.email)?)
}

pub fn confirm_password_reset(
    req: pb::ConfirmPasswordResetRequest,
    policy: &PasswordPolicy<'_>,
) -> DomainResult<ResetConfirmation> {
    let (_, password, _) = all((
        required("token", &req.token),
        policy.parse("password", secret(req.password.clone()), &[]),
        confirmed(&req.password, &req.password_confirm, false),
    ))?;
    Ok(ResetConfirmation { token: secret(req.token), password })
}

pub fn list_admins(
    req: &pb::ListAdminsRequest,
    key: &PageKey,
) -> DomainResult<(AdminQuery, PageRequest)> {
    let order = known("order_by", req.order_by).map(|order_by| match order_by {
        pb::AdminOrderBy::Unspecified | pb::AdminOrderBy::CreatedAt => AdminOrder::CreatedAt,
        pb::AdminOrderBy::Email => AdminOrder::Email,
        pb::AdminOrderBy::Name => AdminOrder::Name,
        pb::AdminOrderBy::UpdatedAt => AdminOrder::UpdatedAt,
        pb::AdminOrderBy::LastLoginAt => AdminOrder::LastLoginAt,
    });
    let query = all((
        text_filter("email", req.email.as_ref()),
        text_filter("name", req.name.as_ref()),
        order,
        descending(req.order_direction, true),
    ))
    .map(|(email, name, order, descending)| {
        let role = Some(req.role.clone()).filter(|role| !role.is_empty());
        let filter = AdminFilter { email, name, role, is_active: req.is_active };
        AdminQuery { filter, order, descending }
    });
    paged(key, query, AdminQuery::fingerprint, paging!(req))
}

pub fn admin_id(field: &str, raw: &str) -> DomainResult<AdminId> {
    Ok(AdminId::parse(field, raw)?)
}

pub fn create_admin(
    req: pb::CreateAdminRequest,
    policy: &PasswordPolicy<'_>,
) -> DomainResult<NewAdmin> {
    // The contract: an empty role means dashboard_viewer.
    let role = match req.role.as_str() {
        "" => Ok(AdminRole::DashboardViewer),
        given => parse_role("role", given),
    };
    let hints = [req.email.as_str(), req.name.as_str()];
    let (email, name, role, password, _, request_id) = all((
        Email::parse("email", &req.email),
        AdminName::parse("name", &req.name),
        role,
        policy.parse("password", secret(req.password.clone()), &hints),
        confirmed(&req.password, &req.password_confirm, true),
        RequestId::parse_optional("request_id", &req.request_id),
    ))?;
    Ok(NewAdmin { email, name, role, password, request_id })
}

pub fn update_admin(
    req: pb::UpdateAdminRequest,
    policy: &PasswordPolicy<'_>,
) -> DomainResult<(AdminId, AdminUpdate)> {
    let admin = req.admin.unwrap_or_default();
    let mask = Mask::of(req.update_mask);
    let (_, id, email, name, role, password, _) = all((
        mask.check(&admin_mask()),
        AdminId::parse("admin.id", &admin.id),
        mask.when("email", || Email::parse("admin.email", &admin.email)),
        mask.when("name", || AdminName::parse("admin.name", &admin.name)),
        mask.when("role", || parse_role("admin.role", &admin.role)),
        mask.when("password", || policy.parse("password", secret(req.password.clone()), &[])),
        mask.when("password", || confirmed(&req.password, &req.password_confirm, true)),
    ))?;
    let is_active = mask.has("is_active").then_some(admin.is_active);
    Ok((id, AdminUpdate { email, name, role, is_active, password }))
}
