//! Login tokens: issued on login, valid for a configurable time of World time, revocable.
//! Values are opaque, synthetic and derived from the run's seed.

use std::collections::HashMap;

use chrono::{Duration, NaiveDateTime};
use onshi_registry::rng::Stream;
use serde::Serialize;

/// The tokens of one login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tokens {
    #[serde(rename = "accessToken")]
    /// The access token.
    pub access: String,
    #[serde(rename = "refreshToken")]
    /// The refresh token.
    pub refresh: String,
    #[serde(rename = "idToken")]
    /// The ID token.
    pub id: String,
    #[serde(rename = "linkSysCharCd")]
    /// The linked system's code.
    pub link_sys_char_cd: String,
}

#[derive(Debug, Clone)]
struct Issued {
    institution: String,
    expires: NaiveDateTime,
    revoked: bool,
}

/// Why a token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    /// No such token.
    Unknown,
    /// Past its lifetime.
    Expired,
    /// Revoked.
    Revoked,
}

impl TokenProblem {
    /// The problem, in words.
    pub fn describe(self) -> &'static str {
        match self {
            TokenProblem::Unknown => "unknown token",
            TokenProblem::Expired => "token expired",
            TokenProblem::Revoked => "token revoked",
        }
    }
}

#[derive(Debug, Default)]
/// The tokens issued.
pub struct TokenStore {
    issued: HashMap<String, Issued>,
    seed: u64,
    count: u64,
}

impl TokenStore {
    /// An empty store; `seed` draws the tokens.
    pub fn new(seed: u64) -> Self {
        TokenStore {
            seed,
            ..Default::default()
        }
    }

    fn value(&mut self, kind: &str) -> String {
        self.count += 1;
        let mut r = Stream::new(self.seed, 0x70_4B3E ^ self.count);
        format!("SYN-{kind}-{:016x}{:016x}", r.next_u64(), r.next_u64())
    }

    /// Issues the tokens of a login of `institution`, valid `ttl` from `now`.
    pub fn issue(&mut self, institution: &str, now: NaiveDateTime, ttl: Duration) -> Tokens {
        // A long-running mock forgets tokens a day after they expired (they turn "unknown").
        self.issued.retain(|_, t| t.expires + Duration::days(1) > now);
        let tokens = Tokens {
            access: self.value("ACCESS"),
            refresh: self.value("REFRESH"),
            id: self.value("ID"),
            link_sys_char_cd: "SYN".into(),
        };
        self.issued.insert(
            tokens.id.clone(),
            Issued {
                institution: institution.to_owned(),
                expires: now + ttl,
                revoked: false,
            },
        );
        tokens
    }

    /// The institution a valid id token belongs to.
    pub fn check(&self, id_token: &str, now: NaiveDateTime) -> Result<&str, TokenProblem> {
        let t = self.issued.get(id_token).ok_or(TokenProblem::Unknown)?;
        if t.revoked {
            Err(TokenProblem::Revoked)
        } else if now >= t.expires {
            Err(TokenProblem::Expired)
        } else {
            Ok(&t.institution)
        }
    }

    /// Revokes every token; returns how many were live.
    pub fn revoke_all(&mut self) -> usize {
        let mut n = 0;
        for t in self.issued.values_mut().filter(|t| !t.revoked) {
            t.revoked = true;
            n += 1;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_expire_and_can_be_revoked() {
        let now = chrono::NaiveDate::from_ymd_opt(2025, 11, 21)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap();
        let mut s = TokenStore::new(1);
        let t = s.issue("9900000001", now, Duration::minutes(30));
        assert_eq!(s.check(&t.id, now), Ok("9900000001"));
        assert_eq!(s.check(&t.id, now + Duration::minutes(30)), Err(TokenProblem::Expired));
        assert_eq!(s.check("nope", now), Err(TokenProblem::Unknown));
        assert_eq!(s.revoke_all(), 1);
        assert_eq!(s.check(&t.id, now), Err(TokenProblem::Revoked));
        let again = TokenStore::new(1).issue("9900000001", now, Duration::minutes(30));
        assert_eq!(again, t, "tokens come from the seed");
    }
}
