package wardenclient

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	wardenv1 "wardenclient/gen/warden/v1"
)

const (
	adminEmail    = "ops@example.com"
	adminPassword = "vX9#qLm2$Rt7!wPz"
	userPassword  = "Hq4!zR8#nW2$kT6p"
	userCount     = 5
)

// The scenario every generated client runs against the real server: health,
// first admin, an API key, users paged to the end, a validation error's
// details, and a call refused for a missing scope.
func TestScenario(t *testing.T) {
	addr := startWarden(t)
	conn, err := Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// 1. health Check.
	health, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil || health.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health: %v %v", health, err)
	}

	// 2. GetSetupStatus, Setup, Login.
	auth := wardenv1.NewAdminAuthServiceClient(conn)
	setupStatus, err := auth.GetSetupStatus(ctx, &wardenv1.GetSetupStatusRequest{})
	if err != nil || !setupStatus.GetNeedsSetup() {
		t.Fatalf("GetSetupStatus: %v %v", setupStatus, err)
	}
	setup, err := auth.Setup(ctx, &wardenv1.SetupRequest{Email: adminEmail, Password: adminPassword, Name: "Ops"})
	if err != nil || setup.GetAdmin().GetEmail() != adminEmail {
		t.Fatalf("Setup: %v %v", setup, err)
	}
	login, err := auth.Login(ctx, &wardenv1.LoginRequest{Email: adminEmail, Password: adminPassword})
	if err != nil || login.GetAccessToken() == "" {
		t.Fatalf("Login: %v %v", login, err)
	}
	admin := WithBearer(ctx, login.GetAccessToken())

	// 3. CreateApiKey: a key that may only read users.
	key, err := wardenv1.NewApiKeysServiceClient(conn).CreateApiKey(admin, &wardenv1.CreateApiKeyRequest{
		Name:   "go reader",
		Scopes: []string{"users:read"},
	})
	if err != nil || key.GetRawKey() == "" {
		t.Fatalf("CreateApiKey: %v %v", key, err)
	}
	reader := WithBearer(ctx, key.GetRawKey())

	// 4. CreateUser, then ListUsers paged to the end (with the reader key).
	users := wardenv1.NewUsersServiceClient(conn)
	var want []string
	for i := 1; i <= userCount; i++ {
		email := fmt.Sprintf("go-user-%d@example.com", i)
		_, err := users.CreateUser(admin, &wardenv1.CreateUserRequest{
			Email:          email,
			PasswordSource: &wardenv1.CreateUserRequest_Password{Password: userPassword},
		})
		if err != nil {
			t.Fatalf("CreateUser %s: %v", email, err)
		}
		want = append(want, email)
	}
	var got []string
	pages := 0
	token := ""
	for {
		page, err := users.ListUsers(reader, &wardenv1.ListUsersRequest{PageSize: 2, PageToken: token})
		if err != nil {
			t.Fatalf("ListUsers page %d: %v", pages+1, err)
		}
		pages++
		for _, user := range page.GetUsers() {
			got = append(got, user.GetEmail())
		}
		token = page.GetNextPageToken()
		if token == "" {
			break
		}
	}
	sort.Strings(got)
	if fmt.Sprint(got) != fmt.Sprint(want) || pages != 3 {
		t.Fatalf("ListUsers: %d pages of %v, want 3 pages of %v", pages, got, want)
	}

	// 5. A validation error: its reason and field violations from
	// grpc-status-details-bin.
	_, err = users.CreateUser(admin, &wardenv1.CreateUserRequest{
		Email:          "not-an-email",
		Phone:          "12345",
		PasswordSource: &wardenv1.CreateUserRequest_Password{Password: userPassword},
	})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("invalid CreateUser: %v, want INVALID_ARGUMENT", err)
	}
	details, err := DetailsOf(err)
	if err != nil {
		t.Fatal(err)
	}
	if details.Info.GetReason() != "VALIDATION_FAILED" || details.Info.GetDomain() != "warden" {
		t.Fatalf("ErrorInfo: %v", details.Info)
	}
	fields := map[string]bool{}
	for _, violation := range details.Violations {
		fields[violation.GetField()] = true
	}
	if !fields["email"] || !fields["phone"] {
		t.Fatalf("field violations %v, want email and phone", details.Violations)
	}

	// 6. The reader key may not create users: PERMISSION_DENIED / SCOPE_MISSING.
	_, err = users.CreateUser(reader, &wardenv1.CreateUserRequest{
		Email:          "go-denied@example.com",
		PasswordSource: &wardenv1.CreateUserRequest_Password{Password: userPassword},
	})
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("CreateUser with a read-only key: %v, want PERMISSION_DENIED", err)
	}
	details, err = DetailsOf(err)
	if err != nil {
		t.Fatal(err)
	}
	if details.Info.GetReason() != "SCOPE_MISSING" || details.Info.GetMetadata()["required_scope"] != "users:write" {
		t.Fatalf("ErrorInfo: %v", details.Info)
	}
}
