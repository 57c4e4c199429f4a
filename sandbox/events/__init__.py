"""Signicat Events delivery for the sandbox: signed webhook envelopes, retried with backoff until they expire."""
