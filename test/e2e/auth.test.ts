// Identity and tenancy on the real mesh: phone OTP through the edge (codes read from auth's DEV
// ONLY SMS sink), access/refresh tokens, the edge's token checks, invites and join codes, key
// rotation, staff location scope, and row-level security in every service schema (as each
// service's role). One mesh for the suite; each scenario file in test/e2e/auth/ is one theme, its
// helpers in test/support/auth.ts.
import { describe } from "node:test";
import { useAuthMesh } from "../support/auth.js";
import { otpLoginScenarios } from "./auth/otp-login.scenario.js";
import { tokenScenarios } from "./auth/tokens.scenario.js";
import { membershipScenarios } from "./auth/membership.scenario.js";
import { keyRotationScenarios } from "./auth/key-rotation.scenario.js";
import { rowLevelSecurityScenarios } from "./auth/row-level-security.scenario.js";
import { ownerCredentialScenarios } from "./auth/owner-credentials.scenario.js";

describe("identity and tenancy through the real mesh", { timeout: 600_000 }, () => {
  const h = useAuthMesh();
  otpLoginScenarios(h);
  tokenScenarios(h);
  membershipScenarios(h);
  keyRotationScenarios(h);
  rowLevelSecurityScenarios(h);
  ownerCredentialScenarios(h);
});
