//! One call of each measured RPC, chosen by the call's index so every run
//! with the same arguments sends the same sequence of requests.

use std::sync::Arc;

use anyhow::{Context as _, bail};
use tonic::{
    Request, Status,
    metadata::{Ascii, MetadataValue},
    transport::Channel,
};
use warden_proto::v1::{self as pb, users_service_client::UsersServiceClient};

use crate::{BenchArgs, ListFilter, Rpc, seed};

/// Everything a worker needs to make calls; cheap to clone.
#[derive(Clone)]
pub struct Caller {
    rpc: Rpc,
    authorization: MetadataValue<Ascii>,
    ids: Arc<Vec<String>>,
    filter: ListFilter,
    page_size: i32,
    seeded_users: u64,
    /// Makes CreateUser emails unique across runs.
    run_id: String,
}

impl Caller {
    pub fn new(args: &BenchArgs) -> anyhow::Result<Self> {
        let authorization = format!("Bearer {}", args.api_key.trim())
            .parse()
            .context("the API key is not valid header text")?;
        let ids = match &args.ids_file {
            Some(path) if args.rpc == Rpc::GetUser => std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?
                .lines()
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        };
        if args.seeded_users == 0 {
            bail!("--seeded-users must be at least 1");
        }
        let run_id = uuid::Uuid::now_v7().simple().to_string();
        Ok(Self {
            rpc: args.rpc,
            authorization,
            ids: Arc::new(ids),
            filter: args.filter,
            page_size: args.page_size,
            seeded_users: args.seeded_users,
            run_id: run_id[run_id.len() - 12..].to_owned(),
        })
    }

    fn request<T>(&self, message: T) -> Request<T> {
        let mut request = Request::new(message);
        request.metadata_mut().insert("authorization", self.authorization.clone());
        request
    }

    /// Makes call number `i` on `client`.
    pub async fn call(
        &self,
        client: &mut UsersServiceClient<Channel>,
        i: u64,
    ) -> Result<(), Status> {
        let pick = mix(i);
        match self.rpc {
            Rpc::GetUser => {
                use pb::get_user_request::Lookup;
                // Without an ids file, look users up by their seeded email.
                let lookup = if self.ids.is_empty() {
                    Lookup::Email(seed::email(pick % self.seeded_users))
                } else {
                    Lookup::Id(self.ids[(pick % self.ids.len() as u64) as usize].clone())
                };
                let message = pb::GetUserRequest { lookup: Some(lookup) };
                client.get_user(self.request(message)).await.map(|_| ())
            }
            Rpc::ListUsers => {
                let message = self.list_request(pick);
                client.list_users(self.request(message)).await.map(|_| ())
            }
            Rpc::CreateUser => {
                let message = pb::CreateUserRequest {
                    email: format!("bench-{}-{i}@load.example.com", self.run_id),
                    password_source: Some(pb::create_user_request::PasswordSource::Password(
                        format!("load test password {i}"),
                    )),
                    given_name: seed::GIVEN_NAMES[(pick % 20) as usize].to_owned(),
                    family_name: seed::FAMILY_NAMES[(pick % 40) as usize].to_owned(),
                    roles: vec!["user".to_owned()],
                    ..Default::default()
                };
                client.create_user(self.request(message)).await.map(|_| ())
            }
        }
    }

    fn list_request(&self, pick: u64) -> pb::ListUsersRequest {
        let mut message = pb::ListUsersRequest {
            page_size: self.page_size,
            order_by: pb::UserOrderBy::CreatedAt.into(),
            order_direction: pb::SortDirection::Desc.into(),
            ..Default::default()
        };
        match self.filter {
            ListFilter::EmailPrefix => {
                // `load0123` of `load012345@…`: one in a hundred of the emails.
                let email = seed::email(pick % self.seeded_users);
                message.email = Some(pb::StringFilter {
                    value: email[..8].to_owned(),
                    mode: pb::MatchMode::StartsWith.into(),
                });
            }
            ListFilter::Role => {
                message.role = "admin".to_owned();
                message.is_active = Some(true);
            }
            ListFilter::Search => {
                let names = seed::FAMILY_NAMES;
                message.search = names[(pick % names.len() as u64) as usize].to_lowercase();
            }
        }
        message
    }
}

/// SplitMix64: a well-spread pseudo-random number for call `i`.
fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
