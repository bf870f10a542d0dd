//! The hardening pass, each fix as an attacker or a careless client would
//! find it: escalation through admin roles, usable secrets at rest, account
//! enumeration through lockout, token times, guessable passwords, idle
//! sessions, edited page tokens, racing refreshes and a database outage.

mod concurrent_refresh;
mod database_outage;
mod escalation;
mod lockout_enumeration;
mod outbox_secrets;
mod page_tokens;
mod refresh_idle;
mod token_times;
mod weak_passwords;

use tonic::{Code, Status};
use tonic_types::StatusExt;
use warden_tests::{assert_status, invalid_fields, reason_of};
