use tonic_reflection::pb::v1::{
    ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
    server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
};
use warden_tests::db_test;

db_test! {
    async fn reflection_lists_all_seven_services_without_a_credential(app) {
        let mut client = ServerReflectionClient::new(app.channel.clone());
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut responses = client
            .server_reflection_info(tokio_stream::iter(vec![request]))
            .await
            .expect("reflection answers")
            .into_inner();
        let response = responses.message().await.expect("a response").expect("not empty");
        let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
            panic!("unexpected reflection answer: {response:?}");
        };
        let mut names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
        names.sort();
        let warden: Vec<&str> =
            names.iter().map(String::as_str).filter(|n| n.starts_with("warden.v1.")).collect();
        assert_eq!(
            warden,
            [
                "warden.v1.AdminAuthService",
                "warden.v1.ApiKeysService",
                "warden.v1.AuditService",
                "warden.v1.MfaService",
                "warden.v1.OAuthClientsService",
                "warden.v1.SessionsService",
                "warden.v1.UsersService",
            ]
        );
        assert!(names.iter().any(|n| n == "grpc.health.v1.Health"));
    }
}
