-- The notice to the old address when a user changes or clears a confirmed e-mail goes through the outbox
-- like every other letter (retried after a failure, its outcome kept in its row), no longer by a direct
-- send whose failure was only logged. That letter goes to a fixed address — the old one, no longer the
-- user's — so the sender must not resolve the recipient to the user's current address, nor hold it for
-- an unconfirmed address, nor cancel it for want of consent; its body is the whole letter as queued.
ALTER TABLE api_email_outbox ADD COLUMN fixed_recipient boolean NOT NULL DEFAULT false;
