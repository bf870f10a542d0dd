//! Mail as the suite's servers send it: every test server delivers through
//! smtp to an in-process SMTP listener of its own, so a test reads links the
//! way a person would, from the delivered message (the outbox never holds
//! them).

use std::time::Duration;

use warden_core::notify::smtp_sink::SmtpSink;

use crate::TestApp;

/// The single-use token in a message body: what follows `token=` (or, for a
/// reset code without a link, the last line) up to whitespace.
pub fn token_in(body: &str) -> String {
    let token: String = match body.find("token=") {
        Some(start) => body[start + 6..].chars().take_while(|c| !c.is_whitespace()).collect(),
        None => panic!("no token link in {body:?}"),
    };
    assert!(token.len() >= 32, "a token of at least 32 characters: {token:?}");
    token
}

impl TestApp {
    /// The sink this server delivers to.
    pub fn mailbox(&self) -> &SmtpSink {
        &self.mail
    }

    /// The text of every message delivered to `to`, oldest first, once there
    /// are at least `count` of them (waiting up to 10 s).
    pub async fn mail_to(&self, to: &str, count: usize) -> Vec<String> {
        let mut found = Vec::new();
        for _ in 0..200 {
            found = self
                .mail
                .received()
                .into_iter()
                .filter(|m| m.rcpt_to.iter().any(|r| r.eq_ignore_ascii_case(to)))
                .map(|m| m.text())
                .collect();
            if found.len() >= count {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{count} message(s) to {to} expected within 10 s, got {}: {found:?}", found.len())
    }

    /// The token in the `nth` (1-based) message delivered to `to`.
    pub async fn token_mailed_to(&self, to: &str, nth: usize) -> String {
        token_in(&self.mail_to(to, nth).await[nth - 1])
    }
}
