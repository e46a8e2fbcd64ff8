//! The catalogue of what the mock checks in every HTTP request (`API-*`). Requests to the API
//! are also judged by the message lint (`MSG-*`), exactly as request files are.

use onshi_protocol::ids;
use onshi_protocol::{CheckId, CheckInfo};

/// Findings that are part of a token's normal life and not, by themselves, a client fault:
/// the client is expected to log in again.
pub const LIFECYCLE: &[CheckId] = &[ids::API_AUTH_003];

/// Findings about the client certificate, which a case may provoke on purpose by giving the
/// client no certificate or a bad one.
pub const CERTIFICATE: &[CheckId] = &[ids::API_CERT_001, ids::API_CERT_002];

/// The catalogue of the mock's request checks (`API-*`).
pub const CHECKS: &[CheckInfo] = &[
    CheckInfo {
        id: ids::API_CERT_001,
        title: "Login presents the institution's client certificate",
        rule: "The TLS connection of a login (`…/ILI12020SV01/auth`) presents the client certificate issued to the medical institution. Without one the login is refused with 401.",
        why: "The national system identifies the institution by its certificate; without it no token is issued and every confirmation at reception fails.",
        fix: "Configure the TLS client with the institution's certificate and key for the login endpoint (for the harness: `api.client_cert_pem` and `api.client_key_pem` from `initialize`).",
    },
    CheckInfo {
        id: ids::API_CERT_002,
        title: "The client certificate is issued by the national CA and within its validity",
        rule: "The certificate presented at login chains to the CA the system trusts and is not expired; otherwise the login is refused with 401.",
        why: "An expired certificate stops the whole clinic's online confirmation on the morning it expires; the client must say so clearly rather than fail silently.",
        fix: "Use the certificate distributed for the institution; renew it before its end date and show the reason of a refused login to the operator.",
    },
    CheckInfo {
        id: ids::API_CRED_001,
        title: "The login body is the institution's credentials JSON",
        rule: "The login body is the credentials JSON of the certificate's institution (the synthetic format in docs/api.md). With `credentials = \"any_json\"` any JSON object is accepted.",
        why: "Credentials of another institution, or a body in the wrong shape, are refused and no token is issued.",
        fix: "Send the `credentials` object given in `initialize` (`api.credentials`) unchanged as the login body.",
    },
    CheckInfo {
        id: ids::API_AUTH_001,
        title: "A search carries the idToken in `Authorization`",
        rule: "Every search (`…/ILI01030SV01/search`) has an `Authorization` header holding the idToken of a login; a search without one, or with an empty one, is refused with 401.",
        why: "A client that searches before (or despite a failed) login sends requests that can never succeed and hides the real problem — the login — from staff.",
        fix: "Log in first; if the login is refused, report that refusal and do not search.",
    },
    CheckInfo {
        id: ids::API_AUTH_002,
        title: "`Authorization` is the bare idToken, not `Bearer <token>`",
        rule: "The search endpoint takes the idToken itself as the `Authorization` value; `Bearer <token>` is refused with 401 (configurable with `bearer_prefix`).",
        why: "Generic HTTP libraries add `Bearer ` by habit; the national API refuses it and every confirmation fails.",
        fix: "Set the header to the idToken exactly as the login returned it.",
    },
    CheckInfo {
        id: ids::API_AUTH_003,
        title: "An expired or revoked token is answered with 401 (not a fault by itself)",
        rule: "A search with a token that expired or was revoked is refused with 401. This is a token's normal life, not a client fault: the client must log in again and repeat the search (see OUT-* of the step).",
        why: "Tokens expire during a long surgery day; a client that does not log in again stops confirming until someone restarts it.",
        fix: "On 401 from search, log in once more and repeat the search once.",
    },
    CheckInfo {
        id: ids::API_AUTH_004,
        title: "The token sent is one the system issued",
        rule: "A search carries an idToken the system issued at a login; a value it never issued (made up, mangled, or the wrong field of the login answer) is refused with 401.",
        why: "A client that sends the accessToken, a truncated token or a placeholder never gets an answer, however often it logs in.",
        fix: "Use `result.idToken` of the login answer, unmodified.",
    },
    CheckInfo {
        id: ids::API_JSON_001,
        title: "The request body is JSON of the expected shape",
        rule: "The body is valid UTF-8 JSON; a search body is `{\"XmlMsg\": {MessageHeader, MessageBody}}` with the request's elements. Otherwise the answer is 400.",
        why: "A body the system cannot read is a confirmation that never happens.",
        fix: "Serialise the request with a JSON library from the request's fields; do not build JSON by string concatenation.",
    },
    CheckInfo {
        id: ids::API_LEN_001,
        title: "`Content-Length` is the body's length in bytes",
        rule: "`Content-Length` equals the number of bytes of the body as sent (UTF-8). A body that ends before it, or runs past it, is refused.",
        why: "Names and 記号 are Japanese: counting characters instead of bytes cuts the JSON short, and only patients with non-ASCII data fail — the bug hides in tests with ASCII data.",
        fix: "Compute the length from the encoded bytes (or let the HTTP library do it).",
    },
    CheckInfo {
        id: ids::API_TYPE_001,
        title: "Every value in the request JSON is a string",
        rule: "In the JSON form of `XmlMsg` every leaf is a JSON string (`\"MedicalInstitutionCode\": \"9900000001\"`), never a number, boolean or null. The mock accepts such values as their text by default (`non_string_values`), and the finding is journaled either way.",
        why: "Codes have leading zeros and fixed widths: a number drops the zeros; a boolean is no code at all.",
        fix: "Keep codes, numbers and dates as strings from the patient record to the JSON.",
    },
    CheckInfo {
        id: ids::API_HTTP_001,
        title: "Requests use the documented method and path",
        rule: "Login and search are `POST` to their documented paths; other methods or paths are answered 404/405.",
        why: "A wrong path is an integration that never worked against the real system.",
        fix: "Use the paths in docs/api.md exactly, with `POST`.",
    },
    CheckInfo {
        id: ids::API_HTTP_002,
        title: "Request bodies stay within the size limit",
        rule: "A request body larger than `max_body_bytes` is refused with 413 without being read to its end.",
        why: "A confirmation request is a few hundred bytes; a huge body is a bug (a loop, a file attached by mistake).",
        fix: "Send only the request's elements.",
    },
    CheckInfo {
        id: ids::API_HTTP_003,
        title: "A chunked request body is framed correctly",
        rule: "A body sent with `Transfer-Encoding: chunked` is a series of chunks, each a hexadecimal size, CRLF, that many bytes and CRLF, ended by a chunk of size 0. A malformed or unfinished series is refused with 400 naming what was wrong.",
        why: "A hand-written HTTP layer that gets the framing wrong sends requests the real system cannot read; the symptom looks like a network error.",
        fix: "Let the HTTP library frame the body (or send it with `Content-Length`).",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_special_lists_name_catalogued_checks() {
        for id in LIFECYCLE.iter().chain(CERTIFICATE) {
            assert!(CHECKS.iter().any(|c| c.id == *id), "{id}");
        }
    }

    /// The endpoints report declared IDs only (the type sees to that); every declared API-*
    /// ID is catalogued here.
    #[test]
    fn every_finding_the_endpoints_make_is_catalogued() {
        // the engine judges how a client uses the API across requests (retries, storms,
        // token reuse); every other API-* finding is the mock's
        let engine = [ids::API_RETRY_001, ids::API_TOKEN_REUSE, ids::API_STORM_001];
        let api: Vec<_> = ids::ALL
            .iter()
            .filter(|id| id.as_str().starts_with("API-") && !engine.contains(id))
            .collect();
        assert!(api.len() >= 10, "only {} API-* IDs declared", api.len());
        for id in api {
            assert!(CHECKS.iter().any(|c| c.id == *id), "{id} is not catalogued");
        }
    }
}
