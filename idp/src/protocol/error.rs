//! OAuth 2.0 and OpenID Connect error codes, spelled as in the RFCs.

use std::borrow::Cow;

/// The `error` values we return (RFC 6749 §4.1.2.1 / §5.2, RFC 6750, RFC 7009, OIDC Core §3.1.2.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    InvalidScope,
    AccessDenied,
    ServerError,
    TemporarilyUnavailable,
    InvalidToken,
    InsufficientScope,
    LoginRequired,
    ConsentRequired,
    InteractionRequired,
    RequestNotSupported,
    RequestUriNotSupported,
    UnmetAuthenticationRequirements,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            InvalidRequest => "invalid_request",
            InvalidClient => "invalid_client",
            InvalidGrant => "invalid_grant",
            UnauthorizedClient => "unauthorized_client",
            UnsupportedGrantType => "unsupported_grant_type",
            UnsupportedResponseType => "unsupported_response_type",
            InvalidScope => "invalid_scope",
            AccessDenied => "access_denied",
            ServerError => "server_error",
            TemporarilyUnavailable => "temporarily_unavailable",
            InvalidToken => "invalid_token",
            InsufficientScope => "insufficient_scope",
            LoginRequired => "login_required",
            ConsentRequired => "consent_required",
            InteractionRequired => "interaction_required",
            RequestNotSupported => "request_not_supported",
            RequestUriNotSupported => "request_uri_not_supported",
            UnmetAuthenticationRequirements => "unmet_authentication_requirements",
        }
    }

    /// HTTP status when the error is returned directly (token, introspection, userinfo endpoints).
    pub fn status(self) -> u16 {
        use ErrorCode::*;
        match self {
            InvalidClient | InvalidToken => 401,
            InsufficientScope => 403,
            ServerError => 500,
            TemporarilyUnavailable => 503,
            _ => 400,
        }
    }
}

/// An error in the protocol's own terms: a code plus a human-readable description.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthError {
    pub code: ErrorCode,
    pub description: Cow<'static, str>,
}

impl OAuthError {
    pub fn new(code: ErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            description: description.into(),
        }
    }

    pub fn invalid_request(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidRequest, d)
    }

    pub fn invalid_grant(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidGrant, d)
    }

    pub fn invalid_client(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidClient, d)
    }

    pub fn invalid_token(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidToken, d)
    }

    /// The description with characters the specs forbid in `error_description` removed
    /// (only %x20-21 / %x23-5B / %x5D-7E are allowed: no CR, LF, TAB, quote or backslash).
    pub fn safe_description(&self) -> String {
        self.description
            .chars()
            .map(|c| match c {
                ' ' | '!' | '#'..='[' | ']'..='~' => c,
                _ => ' ',
            })
            .collect()
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.description)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_rfcs() {
        let table = [
            (ErrorCode::InvalidRequest, 400, "invalid_request"),
            (ErrorCode::InvalidClient, 401, "invalid_client"),
            (ErrorCode::InvalidGrant, 400, "invalid_grant"),
            (
                ErrorCode::UnsupportedGrantType,
                400,
                "unsupported_grant_type",
            ),
            (ErrorCode::InvalidToken, 401, "invalid_token"),
            (ErrorCode::InsufficientScope, 403, "insufficient_scope"),
            (
                ErrorCode::TemporarilyUnavailable,
                503,
                "temporarily_unavailable",
            ),
            (ErrorCode::ServerError, 500, "server_error"),
            (ErrorCode::LoginRequired, 400, "login_required"),
        ];
        for (code, status, text) in table {
            assert_eq!(code.status(), status, "{text}");
            assert_eq!(code.as_str(), text);
        }
    }

    #[test]
    fn descriptions_lose_control_characters_and_quotes() {
        let e = OAuthError::invalid_request("bad\r\n\tvalue \"x\" \\ ok");
        assert_eq!(e.safe_description(), "bad   value  x    ok");
    }
}
