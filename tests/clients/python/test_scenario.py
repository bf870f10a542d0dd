"""The scenario every generated client runs against the real server: health,
first admin, an API key, users paged to the end, a validation error's
details, and a call refused for a missing scope."""

import grpc
from warden.v1 import (
    admin_auth_pb2,
    admin_auth_pb2_grpc,
    api_keys_pb2,
    api_keys_pb2_grpc,
    users_pb2,
    users_pb2_grpc,
)

from warden_client import bearer, connect, details_of, is_serving

ADMIN_EMAIL = "ops@example.com"
ADMIN_PASSWORD = "vX9#qLm2$Rt7!wPz"
USER_PASSWORD = "Hq4!zR8#nW2$kT6p"
USER_COUNT = 5


def test_scenario(warden_address: str) -> None:
    with connect(warden_address) as channel:
        # 1. health Check.
        assert is_serving(channel)

        # 2. GetSetupStatus, Setup, Login.
        auth = admin_auth_pb2_grpc.AdminAuthServiceStub(channel)
        assert auth.GetSetupStatus(admin_auth_pb2.GetSetupStatusRequest()).needs_setup
        setup = auth.Setup(
            admin_auth_pb2.SetupRequest(email=ADMIN_EMAIL, password=ADMIN_PASSWORD, name="Ops")
        )
        assert setup.admin.email == ADMIN_EMAIL
        login = auth.Login(admin_auth_pb2.LoginRequest(email=ADMIN_EMAIL, password=ADMIN_PASSWORD))
        admin = bearer(login.access_token)

        # 3. CreateApiKey: a key that may only read users.
        key = api_keys_pb2_grpc.ApiKeysServiceStub(channel).CreateApiKey(
            api_keys_pb2.CreateApiKeyRequest(name="python reader", scopes=["users:read"]),
            metadata=admin,
        )
        assert key.raw_key.startswith("wdn_")
        reader = bearer(key.raw_key)

        # 4. CreateUser, then ListUsers paged to the end (with the reader key).
        users = users_pb2_grpc.UsersServiceStub(channel)
        wanted = [f"python-user-{i}@example.com" for i in range(1, USER_COUNT + 1)]
        for email in wanted:
            users.CreateUser(
                users_pb2.CreateUserRequest(email=email, password=USER_PASSWORD), metadata=admin
            )
        listed: list[str] = []
        pages, token = 0, ""
        while True:
            page = users.ListUsers(
                users_pb2.ListUsersRequest(page_size=2, page_token=token), metadata=reader
            )
            pages += 1
            listed.extend(user.email for user in page.users)
            token = page.next_page_token
            if not token:
                break
        assert (pages, sorted(listed)) == (3, wanted)

        # 5. A validation error: reason and field violations from
        # grpc-status-details-bin.
        try:
            users.CreateUser(
                users_pb2.CreateUserRequest(
                    email="not-an-email", phone="12345", password=USER_PASSWORD
                ),
                metadata=admin,
            )
            raise AssertionError("an invalid CreateUser succeeded")
        except grpc.RpcError as error:
            assert isinstance(error, grpc.Call) and error.code() == grpc.StatusCode.INVALID_ARGUMENT
            details = details_of(error)
            assert (details.info.reason, details.info.domain) == ("VALIDATION_FAILED", "warden")
            assert {"email", "phone"} <= {violation.field for violation in details.violations}

        # 6. The reader key may not create users: PERMISSION_DENIED / SCOPE_MISSING.
        try:
            users.CreateUser(
                users_pb2.CreateUserRequest(email="python-denied@example.com", password=USER_PASSWORD),
                metadata=reader,
            )
            raise AssertionError("a read-only key created a user")
        except grpc.RpcError as error:
            assert isinstance(error, grpc.Call) and error.code() == grpc.StatusCode.PERMISSION_DENIED
            details = details_of(error)
            assert details.info.reason == "SCOPE_MISSING"
            assert details.info.metadata["required_scope"] == "users:write"
