// The scenario every generated client runs against the real server: health,
// first admin, an API key, users paged to the end, a validation error's
// details, and a call refused for a missing scope.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { Code, createClient } from "@connectrpc/connect";

import { bearer, connect, detailsOf, isServing } from "../src/client.js";
import { AdminAuthService } from "../src/gen/warden/v1/admin_auth_pb.js";
import { ApiKeysService } from "../src/gen/warden/v1/api_keys_pb.js";
import { UsersService } from "../src/gen/warden/v1/users_pb.js";
import { startWarden, type RunningWarden } from "../src/server.js";

const ADMIN_EMAIL = "ops@example.com";
const ADMIN_PASSWORD = "vX9#qLm2$Rt7!wPz";
const USER_PASSWORD = "Hq4!zR8#nW2$kT6p";
const USER_COUNT = 5;

let warden: RunningWarden;
before(async () => {
  warden = await startWarden();
});
after(async () => {
  await warden.stop();
});

test("the client scenario against the real server", async () => {
  const transport = connect(warden.address);

  // 1. health Check.
  assert.equal(await isServing(transport), true);

  // 2. GetSetupStatus, Setup, Login.
  const auth = createClient(AdminAuthService, transport);
  assert.equal((await auth.getSetupStatus({})).needsSetup, true);
  const setup = await auth.setup({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD, name: "Ops" });
  assert.equal(setup.admin?.email, ADMIN_EMAIL);
  const login = await auth.login({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
  const admin = bearer(login.accessToken);

  // 3. CreateApiKey: a key that may only read users.
  const keys = createClient(ApiKeysService, transport);
  const key = await keys.createApiKey({ name: "typescript reader", scopes: ["users:read"] }, admin);
  assert.match(key.rawKey, /^wdn_/);
  const reader = bearer(key.rawKey);

  // 4. CreateUser, then ListUsers paged to the end (with the reader key).
  const users = createClient(UsersService, transport);
  const wanted = Array.from({ length: USER_COUNT }, (_, i) => `typescript-user-${i + 1}@example.com`);
  for (const email of wanted) {
    await users.createUser({ email, passwordSource: { case: "password", value: USER_PASSWORD } }, admin);
  }
  const listed: string[] = [];
  let pages = 0;
  let pageToken = "";
  do {
    const page = await users.listUsers({ pageSize: 2, pageToken }, reader);
    pages += 1;
    listed.push(...page.users.map((user) => user.email));
    pageToken = page.nextPageToken;
  } while (pageToken !== "");
  assert.equal(pages, 3);
  assert.deepEqual(listed.sort(), wanted);

  // 5. A validation error: reason and field violations from grpc-status-details-bin.
  const invalid = await users
    .createUser(
      { email: "not-an-email", phone: "12345", passwordSource: { case: "password", value: USER_PASSWORD } },
      admin,
    )
    .then(() => assert.fail("an invalid CreateUser succeeded"), detailsOf);
  assert.equal(invalid.code, Code.InvalidArgument);
  assert.equal(invalid.info.reason, "VALIDATION_FAILED");
  assert.equal(invalid.info.domain, "warden");
  const fields = new Set(invalid.violations.map((violation) => violation.field));
  assert.ok(fields.has("email") && fields.has("phone"), `violations: ${[...fields]}`);

  // 6. The reader key may not create users: PERMISSION_DENIED / SCOPE_MISSING.
  const denied = await users
    .createUser(
      { email: "typescript-denied@example.com", passwordSource: { case: "password", value: USER_PASSWORD } },
      reader,
    )
    .then(() => assert.fail("a read-only key created a user"), detailsOf);
  assert.equal(denied.code, Code.PermissionDenied);
  assert.equal(denied.info.reason, "SCOPE_MISSING");
  assert.equal(denied.info.metadata.required_scope, "users:write");
});
