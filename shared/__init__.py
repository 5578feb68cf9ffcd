"""Code every koppel service imports: event contracts, outbox, config, database helpers."""
from shared import log_redaction

log_redaction.install()
