"""What a person reads when a backend refuses: the cause and the next step, never the SDK's text."""

from secrets_admin.backends.advice import advice
from secrets_admin.backends.base import BackendError


def error(backend, reason, message="vault: read metadata: InvalidPath: 404 at 10.0.0.7"):
    return BackendError(message, permanent=True, backend=backend, reason=reason)


def test_each_known_cause_reads_as_what_to_do():
    assert (
        advice(error("vault", "not found"))
        == "That path does not exist in OpenBao: check the mount and path."
    )
    assert advice(error("aws", "not a path")) == (
        "That is not a path the console manages in AWS Secrets Manager: use the secret's name, "
        "such as payments/api-key."
    )
    assert advice(error("vault", "OpenBao/Vault is sealed")).startswith("OpenBao is sealed")
    assert advice(error("aws", "permission denied (IAM policy)")).startswith(
        "AWS Secrets Manager refused the console access"
    )


def test_the_consoles_own_input_checks_are_shown_as_they_are():
    exc = error("vault", "refused input", "metadata refused: owner is longer than 128 characters")
    assert advice(exc) == "Metadata refused: owner is longer than 128 characters."


def test_an_unknown_cause_points_to_the_log_without_quoting_it():
    text = advice(error("vault", ""))
    assert text.startswith("OpenBao refused the request. The details are in the console's log")
    assert "10.0.0.7" not in text and "InvalidPath" not in text
