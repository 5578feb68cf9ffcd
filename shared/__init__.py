"""Code every koppel service imports: event contracts, outbox, config, database helpers."""
