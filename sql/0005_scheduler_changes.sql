-- The stateless, incremental scheduler (controller/src/scheduler.cpp).
--
-- Change tracking. Every job and trial row carries the id of the transaction
-- that last changed its state (xid8: 64 bits, never wraps). A scheduler pass
-- first takes the xmin of its snapshot (pg_snapshot_xmin(pg_current_snapshot())):
-- every transaction below it has ended, so whatever the pass could not see was
-- written by a transaction at or above it. The next pass looks only at rows
-- with change_xid >= that watermark. Rows are sometimes looked at twice (a
-- pass is idempotent), never missed, and the watermark lives in the
-- scheduler's memory only: a scheduler without one does a full pass.
--
-- Heartbeats and other updates that leave the state alone do not bump it, so a
-- job whose trials are only training costs its scheduler nothing.
--
-- Written so that running it twice changes nothing.

ALTER TABLE jobs ADD COLUMN IF NOT EXISTS change_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE trials ADD COLUMN IF NOT EXISTS change_xid xid8 NOT NULL DEFAULT pg_current_xact_id();

CREATE INDEX IF NOT EXISTS jobs_change_xid ON jobs (change_xid);
CREATE INDEX IF NOT EXISTS trials_change_xid ON trials (change_xid);

CREATE OR REPLACE FUNCTION hilnas_stamp_change_xid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.state IS DISTINCT FROM OLD.state THEN
        NEW.change_xid := pg_current_xact_id();
    END IF;
    RETURN NEW;
END $$;

DROP TRIGGER IF EXISTS jobs_change_xid ON jobs;
CREATE TRIGGER jobs_change_xid BEFORE UPDATE OF state ON jobs
    FOR EACH ROW EXECUTE FUNCTION hilnas_stamp_change_xid();
DROP TRIGGER IF EXISTS trials_change_xid ON trials;
CREATE TRIGGER trials_change_xid BEFORE UPDATE OF state ON trials
    FOR EACH ROW EXECUTE FUNCTION hilnas_stamp_change_xid();

-- The front each hypervolume row covers, so that the next row's front event
-- (trials added to and removed from the front) is computed from the database
-- rather than from a scheduler's memory. NULL on rows written before this
-- migration (read as an empty front).
ALTER TABLE job_hypervolume ADD COLUMN IF NOT EXISTS front_trial_ids uuid[];
