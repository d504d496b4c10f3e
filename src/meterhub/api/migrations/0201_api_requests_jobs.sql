-- Requests (заявки и обращения) of residents with an optional photo and their status history, and the
-- background jobs staff start through the API (import, close, receipts batch) with their progress.

CREATE TABLE api_requests (
    request_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_no  text NOT NULL REFERENCES accounts (account_no) ON DELETE CASCADE,
    category    text NOT NULL CHECK (category IN
                    ('plumbing', 'electrical', 'heating', 'meters', 'billing', 'common_areas', 'other')),
    text        text NOT NULL CHECK (length(text) BETWEEN 1 AND 4000),
    status      text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'in_progress', 'done', 'rejected')),
    created_by  bigint REFERENCES api_users (user_id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_requests_account_idx ON api_requests (account_no, created_at DESC);
CREATE INDEX api_requests_status_idx ON api_requests (status, created_at);

-- At most one photo per request, stored in the database (small: the size limit is a setting).
CREATE TABLE api_request_photos (
    request_id    bigint PRIMARY KEY REFERENCES api_requests (request_id) ON DELETE CASCADE,
    content_type  text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp')),
    size_bytes    integer NOT NULL CHECK (size_bytes > 0),
    sha256        text NOT NULL,
    data          bytea NOT NULL
);

-- Every status the request had, the first row being its creation.
CREATE TABLE api_request_history (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id  bigint NOT NULL REFERENCES api_requests (request_id) ON DELETE CASCADE,
    status      text NOT NULL,
    comment     text NOT NULL DEFAULT '',
    changed_by  bigint REFERENCES api_users (user_id) ON DELETE SET NULL,
    changed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_request_history_request_idx ON api_request_history (request_id, id);

CREATE TABLE api_jobs (
    job_id          uuid PRIMARY KEY,
    kind            text NOT NULL CHECK (kind IN ('import', 'close', 'receipts')),
    status          text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    params          jsonb NOT NULL DEFAULT '{}',
    progress_done   integer NOT NULL DEFAULT 0,
    progress_total  integer,
    message         text NOT NULL DEFAULT '',
    result          jsonb,
    error           text,
    created_by      bigint REFERENCES api_users (user_id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    finished_at     timestamptz
);
CREATE INDEX api_jobs_created_idx ON api_jobs (created_at DESC);
