"""AWS errors in one sentence: which calls to retry, and how a failed call is worded for the user."""

from __future__ import annotations

from ctlint.errors import EngineError

RETRYABLE_CODES = (
    "ThrottlingException",
    "TooManyRequestsException",
    "InternalServerException",
    "InternalFailure",
    "ServiceUnavailable",
    "ServiceUnavailableException",
)
CREDENTIAL_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "RequestExpired",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId",
    }
)
NOT_FOUND_CODES = frozenset({"EntityNotFoundException"})


def error_code(error: BaseException | None) -> str | None:
    """The AWS error code of an error or of the ClientError it wraps (pyathena wraps with `from`)."""
    seen = 0
    while error is not None and seen < 10:
        response = getattr(error, "response", None)
        if isinstance(response, dict):
            code = response.get("Error", {}).get("Code")
            if code:
                return str(code)
        error = error.__cause__ or error.__context__
        seen += 1
    return None


def operation(error: BaseException | None) -> str | None:
    """The AWS operation of the ClientError an error wraps, if any."""
    for _ in range(10):
        if error is None:
            return None
        name = getattr(error, "operation_name", None)
        if name:
            return str(name)
        error = error.__cause__ or error.__context__
    return None


def is_credentials_problem(error: BaseException) -> bool:
    from botocore.exceptions import NoCredentialsError, TokenRetrievalError

    current: BaseException | None = error
    for _ in range(10):
        if current is None:
            break
        if isinstance(current, (NoCredentialsError, TokenRetrievalError)):
            return True
        current = current.__cause__ or current.__context__
    return error_code(error) in CREDENTIAL_CODES


def describe(error: BaseException, doing: str) -> EngineError:
    """One sentence for a failed AWS call."""
    code = error_code(error)
    if is_credentials_problem(error):
        return EngineError(
            f"AWS rejected the credentials ({code or type(error).__name__}) while {doing}; they are "
            "missing or expired: refresh them (for example `aws sso login`) and run again."
        )
    if code in ("AccessDenied", "AccessDeniedException"):
        return EngineError(
            f"AWS denied access while {doing} ({error}); grant the permissions listed in docs/athena.md."
        )
    detail = str(error).strip() or type(error).__name__
    return EngineError(f"Athena failed while {doing}: {detail}")
